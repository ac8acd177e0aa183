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

// The corrections form: the old value is the record's, read from the store (GET /api/corrections/current) each
// time the entity, system, field or record changes — the person does not type it. Without JavaScript the page
// pre-fills it from a link's query instead, and the server checks it either way.
const correctForm = document.querySelector("form.correct-form");
if (correctForm) {
  const field = (name) => correctForm.elements.namedItem(name);
  const note = document.getElementById("old-value-note");
  const lookUp = async () => {
    const query = new URLSearchParams({entity: field("canonical_id").value, system: field("system").value,
                                       field: field("field").value, source_id: field("source_id").value});
    if (!field("canonical_id").value) return;
    const answer = await fetch(`/api/corrections/current?${query}`, {headers: {Accept: "application/json"}});
    const body = await answer.json();
    if (answer.ok) {
      field("old_value").value = body.value ?? "";
      if (note) note.textContent = body.day ? `as the record holds it on ${body.day}` : "nothing stored yet";
    } else if (note) {
      note.textContent = body.detail || "";
    }
  };
  for (const name of ["canonical_id", "system", "field", "source_id"]) {
    field(name).addEventListener("change", lookUp);
  }
}
