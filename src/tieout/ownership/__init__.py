"""Field ownership: which system owns each shared field and which record wins a dispute."""
