// The global search box of the top bar: Ctrl+K (or "/" when not typing) reaches it from
// any page; htmx fills the drop-down while typing; arrows walk the results, Escape closes.

const input = document.getElementById("search-box");
const popup = document.getElementById("search-popup");

function searchBox() {
  // the search page has its own, larger box
  return document.getElementById("search-page-box") || input;
}

function typing(target) {
  return (
    target instanceof HTMLElement &&
    (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName))
  );
}

function reachBox(event) {
  const box = searchBox();
  if (!box) return;
  event.preventDefault();
  box.focus();
  box.select();
}

function close() {
  if (!popup) return;
  popup.classList.remove("open");
  popup.replaceChildren();
}

function links() {
  return popup ? [...popup.querySelectorAll("a")] : [];
}

document.addEventListener("keydown", (event) => {
  const plain = !event.ctrlKey && !event.metaKey && !event.altKey;
  if ((event.ctrlKey || event.metaKey) && !event.altKey && event.key.toLowerCase() === "k") {
    reachBox(event);
  } else if (event.key === "/" && plain && !typing(event.target)) {
    reachBox(event);
  }
});

input?.addEventListener("keydown", (event) => {
  if (event.key === "Escape") {
    input.value = "";
    close();
    input.blur();
  } else if (event.key === "ArrowDown" && links().length) {
    event.preventDefault();
    links()[0].focus();
  }
});

popup?.addEventListener("keydown", (event) => {
  const all = links();
  const at = all.indexOf(document.activeElement);
  if (event.key === "ArrowDown" && at < all.length - 1) {
    event.preventDefault();
    all[at + 1].focus();
  } else if (event.key === "ArrowUp") {
    event.preventDefault();
    (at > 0 ? all[at - 1] : input).focus();
  } else if (event.key === "Escape") {
    close();
    input.focus();
  }
});

document.addEventListener("click", (event) => {
  if (popup && !event.target.closest("#search-form")) close();
});

document.addEventListener("htmx:afterSwap", (event) => {
  if (event.target !== popup) return;
  const shown = input.value.trim() !== "" && popup.textContent.trim() !== "";
  popup.classList.toggle("open", shown);
});
