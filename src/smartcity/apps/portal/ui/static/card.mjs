// 我的市民卡 (apps/card) on 我的主页: purses and today's transit, top-up from the
// platform wallet, the card's functions switched on and off, phone NFC tokens, report
// lost / reissue, movements. Strings come translated in #portal-config (context.text).

import { announce, problemOf } from "./session.mjs";

// The card API's limit for one top-up (apps/card/models.py MAX_AMOUNT_FEN).
const MAX_TOP_UP_FEN = 10_000_000;

function named(names, code) {
  return (names && names[code]) || code;
}

function maskCard(number) {
  return number.length > 8 ? `${number.slice(0, 4)} **** **** ${number.slice(-4)}` : number;
}

/**
 * Yuan as typed ("50", "12.5", "0.01") to integer fen, or null. Decimal text is read
 * digit by digit: no floating point between the citizen's figure and the ledger.
 */
export function fenOfYuan(typed) {
  const match = /^(\d{1,9})(?:\.(\d{0,2}))?$/.exec(typed.trim().replace("。", ".").replace("．", "."));
  if (!match) {
    return null;
  }
  const cents = (match[2] || "").padEnd(2, "0");
  return Number(match[1]) * 100 + Number(cents);
}

function newRequestId() {
  const random = Math.random().toString(36).slice(2, 10);
  return `web-top-up-${Date.now().toString(36)}-${random}`;
}

// One request id per (purse, amount) until the server answers for sure: a retry after a
// lost answer is the same top-up, never a second one.
const pendingTopUps = new Map();

function topUpRequestId(purse, fen) {
  const key = `${purse}:${fen}`;
  if (!pendingTopUps.has(key)) {
    pendingTopUps.set(key, newRequestId());
  }
  return pendingTopUps.get(key);
}

// ---- Top-up: wallet → purse ----

function topUpForm(context, card) {
  const { element, text } = context;
  const purse = element(
    "select",
    { id: "card-top-up-purse", name: "purse" },
    card.purses.map((item) => element("option", { value: item.purse, text: named(text.purses, item.purse) })),
  );
  const amount = element("input", {
    id: "card-top-up-amount",
    name: "amount",
    type: "text",
    inputmode: "decimal",
    autocomplete: "off",
    "aria-describedby": "card-top-up-hint card-top-up-error",
  });
  const error = element("p", { id: "card-top-up-error", className: "field-error", hidden: true });
  const hint = element("p", {
    id: "card-top-up-hint",
    className: "hint",
    text: context.fill(text.topUpHint, { available: context.walletText() }),
  });
  const button = element("button", { type: "submit", className: "button button--primary", text: text.topUpButton });
  const form = element("form", { className: "portal-form", id: "card-top-up", novalidate: true }, [
    element("h3", { id: "card-top-up-heading", text: text.topUpTitle }),
    element("div", { className: "field" }, [element("label", { for: "card-top-up-purse", text: text.topUpPurse }), purse]),
    element("div", { className: "field" }, [element("label", { for: "card-top-up-amount", text: text.topUpAmount }), amount, hint, error]),
    button,
  ]);
  form.setAttribute("aria-labelledby", "card-top-up-heading");
  const showError = (message) => {
    error.textContent = message || "";
    error.hidden = !message;
    if (message) {
      amount.setAttribute("aria-invalid", "true");
      amount.focus();
    } else {
      amount.removeAttribute("aria-invalid");
    }
  };
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const fen = fenOfYuan(amount.value);
    if (fen === null || fen <= 0) {
      showError(text.amountInvalid);
      return;
    }
    if (fen > MAX_TOP_UP_FEN) {
      showError(context.fill(text.amountTooLarge, { max: context.formatFen(MAX_TOP_UP_FEN) }));
      return;
    }
    showError("");
    button.disabled = true;
    const requestId = topUpRequestId(purse.value, fen);
    let response;
    try {
      response = await context.apiFetch("/api/card/mine/top-ups", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ request_id: requestId, amount_fen: fen, purse: purse.value }),
      });
    } catch {
      // No answer: the same request id is kept, so trying again cannot pay twice.
      button.disabled = false;
      showError(text.topUpNoAnswer);
      return;
    }
    if (response.ok) {
      pendingTopUps.delete(`${purse.value}:${fen}`);
      const movement = await response.json();
      const done = context.fill(text.toppedUp, {
        amount: context.formatFen(movement.amount_fen),
        purse: named(text.purses, movement.purse),
      });
      await context.reloadWallet();  // first: the redrawn form names what the wallet holds
      await renderCard(context, done);
      document.getElementById("card-top-up-amount")?.focus();
      return;
    }
    pendingTopUps.delete(`${purse.value}:${fen}`);
    button.disabled = false;
    const problem = await problemOf(response);
    if (problem.result === "exceeds_credits") {
      await context.reloadWallet();
      showError(context.fill(text.walletTooLow, { available: context.walletText() }));
    } else if (problem.result === "debit_account_not_found") {
      showError(text.noWallet);
    } else {
      showError(text.actionFailed + (problem.detail || problem.status));
    }
  });
  return form;
}

// ---- Functions: one switch each ----

function functionSwitches(context, card) {
  const { element, text } = context;
  const status = element("p", { className: "portal-status", id: "card-functions-status", role: "status", hidden: true });
  const retired = card.status === "retired";
  const switches = card.functions.map((item) => {
    const id = `card-function-${item.function}`;
    const name = named(text.cardFunctions, item.function);
    const box = element("input", {
      id,
      type: "checkbox",
      role: "switch",
      name: "function",
      value: item.function,
      checked: item.enabled,
      disabled: retired,
      "data-function": item.function,
    });
    const state = element("span", { className: "switch__state", "aria-hidden": "true", text: item.enabled ? text.on : text.off });
    // The switch is never disabled while its request runs (that would drop the keyboard
    // focus): a change made meanwhile is sent when the answer is in, the last one wins.
    let confirmed = item.enabled;
    let sending = false;
    box.addEventListener("change", async () => {
      state.textContent = box.checked ? text.on : text.off;
      if (sending) {
        return;
      }
      sending = true;
      while (box.checked !== confirmed) {
        const enabled = box.checked;
        const response = await context.apiFetch(`/api/card/mine/functions/${encodeURIComponent(item.function)}`, {
          method: "PUT",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ enabled }),
        });
        if (response.ok) {
          confirmed = enabled;
          announce(status, context.fill(enabled ? text.functionOn : text.functionOff, { name }));
        } else {
          box.checked = confirmed;
          state.textContent = confirmed ? text.on : text.off;
          const problem = await problemOf(response);
          announce(status, text.actionFailed + (problem.detail || problem.status));
          break;
        }
      }
      sending = false;
    });
    return element("li", {}, [
      element("label", { className: "switch", for: id }, [box, element("span", { className: "switch__name", text: name }), state]),
    ]);
  });
  return element("fieldset", { className: "card-functions", id: "card-functions" }, [
    element("legend", { text: text.cardFunctionsTitle }),
    element("p", { className: "hint", text: text.functionsHint }),
    element("ul", { className: "switches" }, switches),
    status,
  ]);
}

// ---- Phone NFC tokens ----

function tokenName(context, token) {
  return context.fill(context.text.tokenName, { id: token.id });
}

async function renderTokens(context, card, container, announcement = "", fresh = null) {
  const { element, text } = context;
  const response = await context.apiFetch("/api/card/mine/tokens");
  if (!response.ok) {
    container.replaceChildren(element("p", { className: "hint", text: text.tokensUnavailable }));
    return;
  }
  const tokens = await response.json();
  const status = element("p", { className: "portal-status", id: "card-tokens-status", role: "status", hidden: !announcement, text: announcement });
  const items = tokens.map((token) => {
    const name = tokenName(context, token);
    const side = [];
    if (!token.revoked_at) {
      const revoke = element("button", {
        type: "button",
        className: "button button--small",
        "aria-label": context.fill(text.revokeTokenOf, { name }),
        text: text.revokeToken,
      });
      revoke.addEventListener("click", async () => {
        revoke.disabled = true;
        const answer = await context.apiFetch(`/api/card/mine/tokens/${token.id}`, { method: "DELETE" });
        if (answer.ok) {
          await renderTokens(context, card, container, context.fill(text.tokenRevoked, { name }));
          document.getElementById("card-tokens-heading").focus();
        } else {
          revoke.disabled = false;
          revoke.focus();
          const problem = await problemOf(answer);
          announce(status, text.actionFailed + (problem.detail || problem.status));
        }
      });
      side.push(revoke);
    }
    const when = token.revoked_at
      ? context.fill(text.tokenRevokedOn, { date: context.dateTimeFormat.format(new Date(token.revoked_at)) })
      : context.fill(text.tokenIssuedOn, { date: context.dateTimeFormat.format(new Date(token.issued_at)) });
    return element("li", { className: "item", "data-token": String(token.id), "data-revoked": token.revoked_at ? "true" : "false" }, [
      element("div", { className: "item__main" }, [
        element("p", { className: "item__title", text: name }),
        element("p", { className: "item__meta", text: when }),
      ]),
      element("div", { className: "item__side" }, side),
    ]);
  });
  const children = [
    element("h3", { id: "card-tokens-heading", tabindex: "-1", text: text.tokensTitle }),
    element("p", { className: "hint", text: text.tokensHint }),
    status,
  ];
  if (fresh && fresh.token) {
    // The API shows a token once, in the answer that issued it; the page keeps it only
    // in this box (never in storage) until the section is drawn again.
    const id = `card-token-${fresh.id}-secret`;
    children.push(
      element("div", { className: "new-token", id: "card-new-token" }, [
        element("label", { for: id, text: context.fill(text.tokenSecretLabel, { name: tokenName(context, fresh) }) }),
        element("input", { id, type: "text", readonly: true, value: fresh.token, spellcheck: "false", "aria-describedby": "card-new-token-hint" }),
        element("p", { id: "card-new-token-hint", className: "hint", text: text.tokenSecretHint }),
      ]),
    );
  }
  children.push(
    items.length ? element("ul", { className: "item-list", id: "card-tokens" }, items) : element("p", { className: "hint", text: text.noTokens }),
  );
  if (card.status === "active") {
    const issue = element("button", { type: "button", className: "button", id: "card-issue-token", text: text.issueToken });
    issue.addEventListener("click", async () => {
      issue.disabled = true;
      const answer = await context.apiFetch("/api/card/mine/tokens", { method: "POST" });
      if (answer.ok) {
        const token = await answer.json();
        await renderTokens(context, card, container, context.fill(text.tokenIssued, { name: tokenName(context, token) }), token);
        document.getElementById(`card-token-${token.id}-secret`).focus();
      } else {
        issue.disabled = false;
        issue.focus();
        const problem = await problemOf(answer);
        announce(status, text.actionFailed + (problem.detail || problem.status));
      }
    });
    children.push(issue);
  }
  container.replaceChildren(...children);
}

// ---- Report lost, reissue ----

function lossControls(context, card, status) {
  const { element, text } = context;
  if (card.status === "active") {
    const report = element("button", { type: "button", className: "button", id: "card-report-loss", text: text.reportLost });
    const confirmBox = element("div", { className: "confirm", role: "group", "aria-labelledby": "card-confirm-text", hidden: true }, [
      element("p", { id: "card-confirm-text", text: text.reportLostConfirm }),
    ]);
    const yes = element("button", { type: "button", className: "button button--danger", text: text.reportLostYes });
    const no = element("button", { type: "button", className: "button", text: text.cancel });
    confirmBox.append(yes, " ", no);
    report.addEventListener("click", () => {
      confirmBox.hidden = false;
      report.hidden = true;
      no.focus();
    });
    no.addEventListener("click", () => {
      confirmBox.hidden = true;
      report.hidden = false;
      report.focus();
    });
    yes.addEventListener("click", async () => {
      yes.disabled = true;
      const answer = await context.apiFetch("/api/card/mine/report-loss", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ reason: "lost" }),
      });
      if (answer.ok) {
        await renderCard(context, text.reportedLost);
        document.getElementById("card-heading").focus();
      } else {
        const problem = await problemOf(answer);
        yes.disabled = false;
        announce(status, text.actionFailed + (problem.detail || problem.status));
      }
    });
    return [report, confirmBox];
  }
  if (card.status === "frozen") {
    const reissue = element("button", { type: "button", className: "button button--primary", text: text.reissue });
    reissue.addEventListener("click", async () => {
      reissue.disabled = true;
      const answer = await context.apiFetch("/api/card/mine/reissue", { method: "POST" });
      if (answer.ok) {
        await renderCard(context, text.reissued);
        document.getElementById("card-heading").focus();
      } else {
        const problem = await problemOf(answer);
        reissue.disabled = false;
        announce(status, text.actionFailed + (problem.detail || problem.status));
      }
    });
    return [element("p", { className: "hint", text: text.frozenHint }), reissue];
  }
  return [];
}

// ---- Movements ----

async function movementList(context) {
  const { element, text } = context;
  const response = await context.apiFetch("/api/card/mine/movements?limit=20");
  if (!response.ok) {
    return null;
  }
  const movements = await response.json();
  const rows = movements.map((movement) =>
    element("li", { className: "item", "data-movement": String(movement.id) }, [
      element("div", { className: "item__main" }, [
        element("p", { className: "item__title", text: `${named(text.movementKinds, movement.kind)} · ${named(text.purses, movement.purse)}` }),
        element("p", { className: "item__meta", text: `${context.dateTimeFormat.format(new Date(movement.at))} · ${movement.reference}` }),
      ]),
      element("p", { className: "item__amount", text: `${movement.amount_fen > 0 ? "+" : ""}${context.formatFen(movement.amount_fen)}` }),
    ]),
  );
  return element("details", { id: "card-movements" }, [
    element("summary", { text: text.movements }),
    rows.length ? element("ul", { className: "item-list" }, rows) : element("p", { className: "hint", text: text.noMovements }),
  ]);
}

/** Draw the card section; ``false`` when the card API is not served at all. */
export async function renderCard(context, announcement = "") {
  const { element, text } = context;
  const response = await context.apiFetch("/api/card/mine");
  const body = document.getElementById("card-body");
  if (response.status === 404) {
    const problem = await problemOf(response);
    // 404 from the card app means "no card"; from the router, "no such API".
    if ((problem.detail || "").startsWith("nothing is served")) {
      return false;
    }
    body.replaceChildren(element("p", { className: "hint", text: text.noCard }));
    return true;
  }
  if (!response.ok) {
    const problem = await problemOf(response);
    throw new Error(problem.detail || `HTTP ${response.status}`);
  }
  const card = await response.json();
  const status = element("p", { className: "portal-status", id: "card-status", role: "status", hidden: !announcement, text: announcement });
  const purses = card.purses.map((purse) =>
    element("li", { className: "purse", "data-purse": purse.purse }, [
      element("span", { text: named(text.purses, purse.purse) }),
      element("strong", { className: "purse__balance", "data-fen": String(purse.balance_fen), text: context.formatFen(purse.balance_fen) }),
    ]),
  );
  const children = [
    element("p", { className: "card-number" }, [
      element("span", { text: maskCard(card.number) }),
      " ",
      element("span", { className: `badge badge--${card.status}`, id: "card-state", "data-status": card.status, text: named(text.cardStates, card.status) }),
    ]),
    status,
    element("ul", { className: "purses", id: "card-purses" }, purses),
    element("p", {
      className: "hint",
      text: context.fill(text.spentToday, { spent: context.formatFen(card.spent_today_fen), cap: context.formatFen(card.daily_cap_fen) }),
    }),
  ];
  // A frozen card's way out (reissue) comes first; an active card's report-lost button
  // comes after what is used every day.
  const loss = lossControls(context, card, status);
  if (card.status !== "active") {
    children.push(...loss);
  }
  if (card.status === "active" && card.purses.length) {
    children.push(topUpForm(context, card));
  }
  children.push(functionSwitches(context, card));
  const tokens = element("div", { className: "card-tokens", id: "card-tokens-body" });
  children.push(tokens);
  if (card.status === "active") {
    children.push(...loss);
  }
  const [movements] = await Promise.all([movementList(context), renderTokens(context, card, tokens)]);
  if (movements) {
    children.push(movements);
  }
  body.replaceChildren(...children);
  return true;
}
