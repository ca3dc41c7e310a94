// 我的主页 page script: who I am, my wallet, my bills (pay from the wallet, history,
// receipts), my inbox with live updates (Server-Sent Events), and the sections other
// apps add when they are installed. Strings come translated in #portal-config.

import {
  SignedOut,
  accessToken,
  announce,
  apiFetch,
  pageUrl,
  problemOf,
  readConfig,
  signOut,
} from "./session.mjs";
import { followPlaces, keepPlace, linkTarget, reveal } from "./anchors.mjs";
import { renderExtraSections } from "./sections.mjs";

const config = readConfig("portal-config");
const text = config.text;
const english = config.locale === "en";
const money = new Intl.NumberFormat(config.languageTag, { style: "currency", currency: "CNY" });
const dateFormat = new Intl.DateTimeFormat(config.languageTag, { dateStyle: "medium" });
const dateTimeFormat = new Intl.DateTimeFormat(config.languageTag, {
  dateStyle: "medium",
  timeStyle: "short",
});

// The page's state, also reachable from browser tests.
const page = {
  session: null,
  billers: new Map(),
  walletFen: null,
  unread: 0,
  messages: new Map(),
  stream: null,
  lastEventId: null,
  payRequests: new Map(),
  ready: null,
};
window.smartcityPortal = page;

const $ = (id) => document.getElementById(id);

export function formatFen(fen) {
  return money.format(fen / 100);
}

export function fill(template, values) {
  return template.replace(/\{(\w+)\}/g, (whole, key) => (key in values ? String(values[key]) : whole));
}

function element(tag, attributes = {}, children = []) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name === "text") {
      node.textContent = value;
    } else if (name === "className") {
      node.className = value;
    } else if (value !== null && value !== undefined && value !== false) {
      node.setAttribute(name, value === true ? "" : value);
    }
  }
  for (const child of children) {
    node.append(child);
  }
  return node;
}

async function getJson(path) {
  const response = await apiFetch(path);
  if (!response.ok) {
    const problem = await problemOf(response);
    throw Object.assign(new Error(problem.detail || `HTTP ${response.status}`), { problem });
  }
  return response.json();
}

function showPageError(error) {
  if (error instanceof SignedOut) {
    toSignIn();
    return;
  }
  announce($("me-status"), text.loadFailed + error.message);
}

function toSignIn() {
  announce($("me-status"), text.signedOut);
  const next = encodeURIComponent(location.pathname + location.hash);
  location.replace(pageUrl(`/me/signin`) + (location.search.includes("lang=") ? "&" : "?") + `next=${next}`);
}

// ---- Who I am ----

function maskId(id) {
  return id.length > 8 ? `${id.slice(0, 4)}${"*".repeat(id.length - 8)}${id.slice(-4)}` : id;
}

function renderProfile(session) {
  $("me-greeting").textContent = fill(text.greeting, { name: session.account.display_name });
  const details = $("profile-details");
  details.replaceChildren();
  const rows = [
    [text.name, session.account.display_name],
    [text.nationalId, maskId(session.subject)],
    [text.signInMethod, text.methods[session.method] || session.method],
    [text.secondFactor, session.account.totp_enabled ? text.on : text.off],
  ];
  for (const [term, value] of rows) {
    details.append(element("dt", { text: term }), element("dd", { text: value }));
  }
}

// ---- Wallet ----

async function loadWallet() {
  const wallet = await getJson("/payment/wallet");
  page.walletFen = wallet.available_fen;
  $("wallet-balance").textContent = formatFen(wallet.available_fen);
  $("wallet-balance").dataset.fen = String(wallet.available_fen);
  const incoming = $("wallet-incoming");
  incoming.hidden = !wallet.incoming_fen;
  incoming.textContent = wallet.incoming_fen ? fill(text.incoming, { amount: formatFen(wallet.incoming_fen) }) : "";
}

// ---- Bills ----

function billerName(code) {
  const biller = page.billers.get(code);
  if (!biller) {
    return code;
  }
  return english ? biller.name_en : biller.name;
}

function billDate(value) {
  return dateFormat.format(new Date(`${value}T00:00:00`));
}

function openBillItem(bill) {
  const biller = billerName(bill.biller_code);
  const amount = formatFen(bill.amount_fen);
  const overdue = new Date(`${bill.due_date}T23:59:59`) < new Date();
  const button = element("button", {
    type: "button",
    className: "button button--primary",
    "data-bill": String(bill.id),
    "aria-label": fill(text.payBill, { biller, period: bill.period, amount }),
    text: text.pay,
  });
  button.addEventListener("click", () => payBill(bill, button));
  return element("li", { className: "item", "data-bill": String(bill.id), "data-bill-number": bill.bill_number }, [
    element("div", { className: "item__main" }, [
      element("p", { className: "item__title", text: `${biller} · ${bill.period}` }),
      element("p", {
        className: overdue ? "item__meta item__meta--warning" : "item__meta",
        text: fill(overdue ? text.overdue : text.due, { date: billDate(bill.due_date) }),
      }),
      element("p", { className: "item__meta", text: `${text.billNumber} ${bill.bill_number}` }),
    ]),
    element("div", { className: "item__side" }, [
      element("p", { className: "item__amount", text: amount }),
      button,
    ]),
  ]);
}

function paidBillItem(bill) {
  const receipt = element("div", { className: "receipt" });
  const show = element("button", {
    type: "button",
    className: "button button--small",
    "aria-expanded": "false",
    text: text.receipt,
  });
  show.addEventListener("click", () => showReceipt(bill, receipt, show));
  const attributes = { className: "item", "data-bill": String(bill.id), "data-bill-number": bill.bill_number };
  if (bill.order_id) {
    attributes["data-order"] = String(bill.order_id);  // receipt links name the order
  }
  return element("li", attributes, [
    element("div", { className: "item__main" }, [
      element("p", { className: "item__title", text: `${billerName(bill.biller_code)} · ${bill.period}` }),
      element("p", {
        className: "item__meta",
        text: bill.paid_at ? fill(text.paidOn, { date: dateTimeFormat.format(new Date(bill.paid_at)) }) : "",
      }),
      receipt,
    ]),
    element("div", { className: "item__side" }, [
      element("p", { className: "item__amount", text: formatFen(bill.amount_fen) }),
      show,
    ]),
  ]);
}

async function showReceipt(bill, container, button) {
  button.setAttribute("aria-expanded", "true");
  container.replaceChildren(element("p", { className: "hint", role: "status", text: "…" }));
  const response = await apiFetch(`/payment/bills/${bill.id}/receipt`);
  if (!response.ok) {
    container.replaceChildren(element("p", { className: "hint", role: "status", text: text.receiptPending }));
    return;
  }
  const receipt = await response.json();
  const children = [element("p", { className: "item__meta", text: fill(text.receiptNumber, { number: receipt.number }) })];
  if (receipt.signed) {
    const link = element("a", { href: receipt.signature_url, download: `${receipt.number}.p7s`, text: text.receiptDownload });
    // The signature needs the bearer token, which a plain link cannot send: fetch it
    // and hand the browser the bytes.
    link.addEventListener("click", async (event) => {
      event.preventDefault();
      const answer = await apiFetch(receipt.signature_url, { headers: { Accept: "application/pkcs7-signature" } });
      if (!answer.ok) {
        return;
      }
      const url = URL.createObjectURL(await answer.blob());
      const download = element("a", { href: url, download: `${receipt.number}.p7s` });
      document.body.append(download);
      download.click();
      download.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    });
    children.push(element("p", {}, [link]));
  } else {
    children.push(element("p", { className: "hint", text: text.receiptPending }));
  }
  container.replaceChildren(...children);
}

async function loadBills() {
  const [open, paid] = await Promise.all([
    getJson("/payment/bills?status=open&limit=100"),
    getJson("/payment/bills?status=paid&limit=50"),
  ]);
  // A bill an inbox link led to stays marked when a live message redraws the lists.
  await keepPlace($("bills"), () => {
    $("bills-open").replaceChildren(...open.map(openBillItem));
    $("bills-open-empty").hidden = open.length > 0;
    $("bills-paid").replaceChildren(...paid.map(paidBillItem));
    $("bills-paid-empty").hidden = paid.length > 0;
  });
  page.openBills = open.length;
}

function payRequestId(bill) {
  // One id per bill per page: a retry after a lost answer is the same payment.
  if (!page.payRequests.has(bill.id)) {
    const random = Math.random().toString(36).slice(2, 10);
    page.payRequests.set(bill.id, `web-${bill.id}-${Date.now().toString(36)}-${random}`);
  }
  return page.payRequests.get(bill.id);
}

async function payBill(bill, button) {
  const status = $("bills-status");
  button.disabled = true;
  announce(status, text.paying);
  try {
    const response = await apiFetch(`/payment/bills/${bill.id}/pay`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ request_id: payRequestId(bill), method: "wallet" }),
    });
    if (!response.ok) {
      const problem = await problemOf(response);
      const insufficient = /insufficient|funds|balance/i.test(`${problem.code} ${problem.detail}`);
      announce(status, insufficient ? text.insufficient : text.payFailed + (problem.detail || problem.status));
      button.disabled = false;
      return;
    }
    const order = await response.json();
    const biller = billerName(bill.biller_code);
    announce(
      status,
      order.status === "pending" ? text.pending : fill(text.paid, { amount: formatFen(bill.amount_fen), biller, period: bill.period }),
    );
    await Promise.all([loadWallet(), loadBills()]);
    // The list was redrawn: keep keyboard users somewhere sensible.
    const next = $("bills-open").querySelector("button");
    (next || $("bills-heading")).focus();
  } catch (error) {
    button.disabled = false;
    if (error instanceof SignedOut) {
      toSignIn();
    } else {
      announce(status, text.payFailed + error.message);
    }
  }
}

// ---- Inbox ----

function renderUnread(count) {
  page.unread = count;
  $("inbox-unread").textContent = count ? fill(text.unread, { count }) : text.noUnread;
  const badge = $("inbox-badge");
  badge.hidden = !count;
  badge.textContent = count ? String(count) : "";
  $("inbox-read-all").disabled = !count;
}

function messageTitle(message) {
  if (!message.link) {
    return message.title;
  }
  // Where the message leads: a real link, reached with Tab like any other.
  const target = linkTarget(message.link);
  const link = element("a", { href: target.href, className: "item__link", text: message.title });
  if (target.external) {
    link.rel = "noopener noreferrer";
  }
  link.addEventListener("click", (event) => {
    if (!message.read) {
      markRead(message.id, false).catch(() => {});
    }
    // The same place again fires no hashchange: go there by hand.
    if (target.here && link.hash === location.hash) {
      event.preventDefault();
      announce($("me-place"), "");
      reveal(link.hash, () => announce($("me-place"), text.placeMissing));
    }
  });
  return link;
}

function messageItem(message) {
  const children = [
    element("p", { className: "item__title" }, [
      message.read ? "" : element("span", { className: "badge badge--new", text: text.new }),
      message.read ? "" : " ",
      messageTitle(message),
    ]),
    element("p", { className: "item__body", text: message.body }),
    element("p", { className: "item__meta", text: dateTimeFormat.format(new Date(message.created_at)) }),
  ];
  const side = [];
  if (!message.read) {
    const button = element("button", {
      type: "button",
      className: "button button--small",
      "aria-label": fill(text.markReadOf, { title: message.title }),
      text: text.markRead,
    });
    button.addEventListener("click", () => markRead(message.id));
    side.push(button);
  }
  return element(
    "li",
    { className: message.read ? "item" : "item item--unread", "data-message": String(message.id) },
    [element("div", { className: "item__main" }, children), element("div", { className: "item__side" }, side)],
  );
}

function renderInbox() {
  const messages = [...page.messages.values()].sort((a, b) => b.id - a.id).slice(0, 30);
  $("inbox-list").replaceChildren(...messages.map(messageItem));
  $("inbox-empty").hidden = messages.length > 0;
}

async function loadInbox() {
  const inbox = await getJson("/notify/inbox?limit=30");
  page.messages = new Map(inbox.messages.map((message) => [message.id, message]));
  renderInbox();
  renderUnread(inbox.unread_total);
}

async function markRead(id, moveFocus = true) {
  const response = await apiFetch(`/notify/inbox/${id}/read`, { method: "POST" });
  if (response.ok) {
    const message = await response.json();
    const wasUnread = !page.messages.get(id)?.read;
    page.messages.set(id, message);
    renderInbox();
    if (wasUnread) {
      renderUnread(Math.max(0, page.unread - 1));
    }
    if (moveFocus) {
      $("inbox-heading").focus();
    }
  }
}

async function markAllRead() {
  const response = await apiFetch("/notify/inbox/read-all", { method: "POST" });
  if (response.ok) {
    await loadInbox();
    $("inbox-heading").focus();
  }
}

async function openStream() {
  const token = await accessToken();
  if (!token) {
    return;
  }
  const resume = page.lastEventId ? `&last_event_id=${page.lastEventId}` : "";
  const source = new EventSource(`/notify/stream?access_token=${encodeURIComponent(token)}${resume}`);
  page.stream = source;
  source.addEventListener("open", () => {
    $("inbox-live").textContent = text.live;
  });
  source.addEventListener("unread", (event) => {
    const counts = JSON.parse(event.data);
    renderUnread(Object.values(counts).reduce((sum, count) => sum + count, 0));
  });
  source.addEventListener("message", (event) => {
    const message = JSON.parse(event.data);
    page.lastEventId = message.id;
    if (page.messages.has(message.id)) {
      return;  // caught up twice: the stream listens before it reads
    }
    page.messages.set(message.id, message);
    renderInbox();
    if (!message.read) {
      renderUnread(page.unread + 1);
    }
    $("inbox-live").textContent = fill(text.newMessage, { title: message.title });
    // A bill paid elsewhere (or issued) changes what the page shows.
    if (message.category === "bill" || message.category === "payment") {
      loadWallet().catch(() => {});
      loadBills().catch(() => {});
    }
  });
  source.addEventListener("resync", () => {
    loadInbox().catch(() => {});
  });
  source.addEventListener("error", () => {
    // The browser retries by itself with the same URL, whose token may have expired:
    // reopen with a fresh token instead.
    if (source.readyState === EventSource.CLOSED || source.readyState === EventSource.CONNECTING) {
      source.close();
      $("inbox-live").textContent = text.liveLost;
      setTimeout(() => openStream().catch(() => {}), 3000);
    }
  });
}

// ---- Start ----

async function start() {
  if (!(await accessToken())) {
    toSignIn();
    return;
  }
  try {
    const [session, billers] = await Promise.all([getJson("/auth/me"), fetch("/payment/billers").then((r) => r.json())]);
    page.session = session;
    page.billers = new Map(billers.map((biller) => [biller.code, biller]));
    renderProfile(session);
    $("me-signout").hidden = false;
    $("me-content").hidden = false;
    await Promise.all([loadWallet(), loadBills(), loadInbox()]);
    await openStream();
    await renderExtraSections({
      config, text, getJson, apiFetch, accessToken, element, fill, formatFen, dateTimeFormat, session,
      reloadWallet: loadWallet,
      walletText: () => (page.walletFen === null ? "—" : formatFen(page.walletFen)),
    });
    // An inbox link (/me#bill-…) opened the page, or is followed on it. A new place
    // clears what was said about the last one (this listener runs first).
    window.addEventListener("hashchange", () => announce($("me-place"), ""));
    followPlaces(() => announce($("me-place"), text.placeMissing));
  } catch (error) {
    showPageError(error);
  }
}

$("me-signout").addEventListener("click", async () => {
  if (page.stream) {
    page.stream.close();
  }
  await signOut();
  location.assign(pageUrl("/me/signin"));
});
$("inbox-read-all").addEventListener("click", () => markAllRead().catch(showPageError));
for (const id of ["bills-heading", "inbox-heading", "documents-heading", "card-heading", "suggestions-heading"]) {
  $(id).tabIndex = -1;
}

page.ready = start();
