// 信息找人 staff page script: sign in, author a notice with an audience rule, preview its
// reach, publish it, and list the department's notices with matched/delivered/read.
// Every user-visible string comes translated from the page (the #targeting-config JSON).

const config = JSON.parse(document.getElementById("targeting-config").textContent);
const text = config.text;
const numbers = new Intl.NumberFormat(config.languageTag);
const $ = (id) => document.getElementById(id);

const PRESETS = {
  outage: { kind: "area_event", event: "water_outage", within_days: 2 },
  parents: {
    kind: "all",
    rules: [
      { kind: "age", min: 18 },
      { kind: "child_age", min: 0, max: 6 },
    ],
  },
  bill: { kind: "bill_due", within_days: 31, overdue: true, billers: ["electricity"] },
  district: {
    kind: "all",
    rules: [
      { kind: "area", codes: ["440106"] },
      { kind: "age", min: 60 },
    ],
  },
};

// The page's state, also reachable from browser tests.
const page = { token: null, notices: [] };
window.smartcityTargeting = page;

async function call(method, path, body) {
  const headers = { authorization: `Bearer ${page.token}` };
  if (body !== undefined) headers["content-type"] = "application/json";
  const answer = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await answer.json().catch(() => ({}));
  if (!answer.ok) throw new Error(data.detail || data.title || String(answer.status));
  return data;
}

function audience() {
  try {
    return JSON.parse($("targeting-audience").value);
  } catch {
    throw new Error(text.badJson);
  }
}

function say(element, message) {
  $(element).textContent = message;
}

async function signIn(event) {
  event.preventDefault();
  const form = new URLSearchParams({
    grant_type: "password",
    username: $("targeting-username").value,
    password: $("targeting-password").value,
  });
  const answer = await fetch("/auth/token", { method: "POST", body: form });
  const data = await answer.json().catch(() => ({}));
  if (!answer.ok) {
    say("targeting-signin-status", `${text.signInFailed}${data.error_description || answer.status}`);
    return;
  }
  page.token = data.access_token;
  say("targeting-signin-status", text.signedIn);
  $("targeting-signin").hidden = true;
  $("targeting-workspace").hidden = false;
  $("targeting-title-zh").focus();
  await refresh();
}

async function preview() {
  try {
    const reach = await call("POST", "/api/targeting/preview", { audience: audience() });
    say(
      "targeting-result",
      `${text.matched}: ${numbers.format(reach.matched)} · ${text.withAccount}: ${numbers.format(reach.with_account)}`,
    );
  } catch (error) {
    say("targeting-result", `${text.failed}${error.message}`);
  }
}

async function publish(event) {
  event.preventDefault();
  try {
    const form = $("targeting-notice-form");
    const expires = form.elements.expires_at.value;
    const created = await call("POST", "/api/targeting/notices", {
      title_zh: form.elements.title_zh.value,
      title_en: form.elements.title_en.value,
      body_zh: form.elements.body_zh.value,
      body_en: form.elements.body_en.value,
      category: form.elements.category.value,
      audience: audience(),
      expires_at: expires ? new Date(expires).toISOString() : null,
    });
    const published = await call("POST", `/api/targeting/notices/${created.id}/publish`);
    say("targeting-result", `${text.published}: ${numbers.format(published.delivered)}`);
    await refresh();
  } catch (error) {
    say("targeting-result", `${text.failed}${error.message}`);
  }
}

function statusText(status) {
  return { draft: text.draft, scheduled: text.scheduled, publishing: text.publishing }[status]
    || text.publishedStatus;
}

async function refresh() {
  const notices = await call("GET", "/api/targeting/notices?limit=50");
  const reaches = await Promise.all(
    notices.map((notice) => call("GET", `/api/targeting/notices/${notice.id}/reach`)),
  );
  page.notices = notices.map((notice, index) => ({ ...notice, reach: reaches[index] }));
  const body = $("targeting-notices");
  body.replaceChildren(
    ...page.notices.map((notice) => {
      const row = document.createElement("tr");
      row.dataset.noticeId = String(notice.id);
      const title = config.locale === "en" ? notice.title_en : notice.title_zh;
      const cells = [
        [title, false],
        [statusText(notice.status), false],
        [numbers.format(notice.reach.matched), true],
        [numbers.format(notice.reach.delivered), true],
        [numbers.format(notice.reach.matched_no_account), true],
        [numbers.format(notice.reach.read), true],
      ];
      for (const [value, numeric] of cells) {
        const cell = document.createElement("td");
        cell.textContent = value;
        if (numeric) cell.className = "number";
        row.append(cell);
      }
      return row;
    }),
  );
}

$("targeting-signin-form").addEventListener("submit", signIn);
$("targeting-preview").addEventListener("click", preview);
$("targeting-notice-form").addEventListener("submit", publish);
$("targeting-refresh").addEventListener("click", () => refresh().catch(() => {}));
$("targeting-preset").addEventListener("change", (event) => {
  const preset = PRESETS[event.target.value];
  if (preset) $("targeting-audience").value = JSON.stringify(preset, null, 2);
});
$("targeting-audience").value = JSON.stringify(PRESETS.outage, null, 2);
