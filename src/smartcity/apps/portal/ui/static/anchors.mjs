// Links into 我的主页 (apps/portal/links.py): ``/me#<section>`` or ``/me#<kind>-<key>``.
// Inbox messages carry them. Once the sections have loaded, the page scrolls to the
// place a link names, highlights it and moves the focus there, so keyboard and screen
// reader users land where sighted users look. A place that is no longer on the page (a
// bill beyond the first hundred, a closed draft) leads to its section, which says so.

const SECTIONS = new Set(["wallet", "bills", "inbox", "profile", "card", "notices", "documents", "more"]);

function byData(selector, name, key) {
  return document.querySelector(`${selector}[data-${name}="${CSS.escape(key)}"]`);
}

function openHistory() {
  const history = document.getElementById("bills-history");
  if (history) {
    history.open = true;
  }
}

// kind -> [find the item (may open what hides it), the heading to fall back to]
const ITEMS = {
  bill: [
    (key) => {
      const open = byData("#bills-open li", "bill-number", key);
      if (open) {
        return open;
      }
      const paid = byData("#bills-paid li", "bill-number", key);
      if (paid) {
        openHistory();
      }
      return paid;
    },
    "bills-heading",
  ],
  receipt: [
    (key) => {
      // A receipt number is "R" and the payment order's id (apps/payment/receipts.py).
      const match = /^R0*(\d+)$/.exec(key);
      const paid = match ? byData("#bills-paid li", "order", match[1]) : null;
      if (paid) {
        openHistory();
        const show = paid.querySelector("button[aria-expanded='false']");
        if (show) {
          show.click();
        }
      }
      return paid;
    },
    "bills-heading",
  ],
  notice: [(key) => byData("#notices-list li", "notice", key), "notices-heading"],
  draft: [
    (key) => {
      const draft = byData("#drafts-body details", "draft", key);
      if (draft) {
        draft.open = true;
      }
      return draft;
    },
    "drafts-heading",
  ],
  suggestion: [(key) => byData("#suggestions-body li", "suggestion", key), "suggestions-heading"],
};

/** What a hash names: a section, an item of a section, or nothing of ours. */
export function placeOf(hash) {
  let place;
  try {
    place = decodeURIComponent((hash || "").replace(/^#/, ""));
  } catch {
    return null;
  }
  if (SECTIONS.has(place)) {
    return { section: place };
  }
  const dash = place.indexOf("-");
  const kind = place.slice(0, dash);
  if (dash > 0 && kind in ITEMS) {
    return { kind, key: place.slice(dash + 1) };
  }
  return place && document.getElementById(place) ? { id: place } : null;
}

function land(target) {
  for (const old of document.querySelectorAll(".is-target")) {
    old.classList.remove("is-target");
  }
  target.classList.add("is-target");
  if (!target.hasAttribute("tabindex") && !target.matches("a, button, input, select, textarea, summary")) {
    target.tabIndex = -1;
  }
  target.scrollIntoView({ block: "start" });
  target.focus({ preventScroll: true });
}

/**
 * Go to the place ``hash`` names; true when it was found. ``missing`` is told when an
 * item is not (or no longer) on the page; the focus then goes to its section.
 */
export function reveal(hash, missing = () => {}) {
  const place = placeOf(hash);
  if (!place) {
    return false;
  }
  if (place.section || place.id) {
    const section = document.getElementById(place.section || place.id);
    if (!section) {
      return false;
    }
    land(section);
    return true;
  }
  const [find, fallback] = ITEMS[place.kind];
  const item = find(place.key);
  if (item) {
    land(item);
    return true;
  }
  const heading = document.getElementById(fallback);
  if (heading) {
    land(heading);
  }
  missing(place);
  return false;
}

/**
 * Redraw ``container`` (a list reloaded by a live message, say) without losing the place
 * a link led to inside it: it is marked again, and focused again if it had the focus.
 */
export async function keepPlace(container, redraw) {
  const marked = container.querySelector(".is-target");
  const focused = Boolean(marked && marked.contains(document.activeElement));
  await redraw();
  const place = marked ? placeOf(location.hash) : null;
  if (!place || !place.kind) {
    return;
  }
  const item = ITEMS[place.kind][0](place.key);
  if (item && container.contains(item)) {
    item.classList.add("is-target");
    if (focused) {
      if (!item.hasAttribute("tabindex")) {
        item.tabIndex = -1;
      }
      item.focus({ preventScroll: true });
    }
  }
}

/** Follow the hash now and whenever it changes (an inbox link on this very page). */
export function followPlaces(missing) {
  window.addEventListener("hashchange", () => reveal(location.hash, missing));
  return reveal(location.hash, missing);
}

/**
 * An inbox link: on this page it stays on this page (keeping ``?lang=``); elsewhere on
 * the platform a plain link; on the web a link that opens without our window.
 */
export function linkTarget(link) {
  if (link.startsWith("/me#")) {
    return { href: `${location.pathname}${location.search}${link.slice(3)}`, here: true };
  }
  if (link.startsWith("/")) {
    return { href: link, here: false };
  }
  return { href: link, here: false, external: true };
}
