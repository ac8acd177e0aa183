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
