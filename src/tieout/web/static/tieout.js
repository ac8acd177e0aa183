// Keyboard: "/" focuses the search box (as on many sites), unless the user is already typing somewhere.
document.addEventListener("keydown", (event) => {
  if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
  const target = event.target;
  if (target instanceof HTMLElement && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) return;
  const search = document.getElementById("q");
  if (search) {
    event.preventDefault();
    search.focus();
    search.select();
  }
});

// The queue's bulk form: a "select every row" box (the rows' own boxes work without JavaScript) and the count of
// rows selected. Wired again after htmx swaps the queue's panel.
function wireBulk() {
  const all = document.getElementById("pick-all");
  const count = document.getElementById("bulk-count");
  const boxes = () => [...document.querySelectorAll('input[type=checkbox][form=bulk][name=item]')];
  if (!all || !count || all.dataset.wired) return;
  all.dataset.wired = "1";
  all.hidden = false;
  const update = () => {
    const picked = boxes().filter((b) => b.checked).length;
    count.textContent = picked ? `${picked} of ${boxes().length}` : "none";
    all.checked = picked > 0 && picked === boxes().length;
    all.indeterminate = picked > 0 && picked < boxes().length;
  };
  all.addEventListener("change", () => { boxes().forEach((b) => { b.checked = all.checked; }); update(); });
  boxes().forEach((b) => b.addEventListener("change", update));
  update();
}
document.addEventListener("DOMContentLoaded", wireBulk);
document.addEventListener("htmx:afterSwap", wireBulk);
