from tieout.cli import main

main()
