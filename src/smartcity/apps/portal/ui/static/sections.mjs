// The sections of 我的主页 that other apps feed: my profile (editable), the citizen
// card, notices that concern me, documents, journeys, policy drafts, applications and
// complaints. A section whose app is not installed (or whose API is not there yet) says
// so plainly: never fake data.

import { renderCard } from "./card.mjs";
import { announce, problemOf } from "./session.mjs";

function say(context, id, message, className = "hint unavailable") {
  document.getElementById(id).replaceChildren(context.element("p", { className, text: message }));
}

function installed(context, name) {
  return context.config.installedApps.includes(name);
}

/** GET ``path``; null when the API is missing (404/405), so the section can say so. */
async function optionalJson(context, path) {
  const response = await context.apiFetch(path);
  if (response.status === 404 || response.status === 405) {
    return null;
  }
  if (!response.ok) {
    const problem = await problemOf(response);
    throw new Error(problem.detail || `HTTP ${response.status}`);
  }
  return response.json();
}

function formatBytes(context, bytes) {
  const format = new Intl.NumberFormat(context.config.languageTag, { maximumFractionDigits: 1 });
  if (bytes >= 1024 * 1024) {
    return `${format.format(bytes / 1024 / 1024)} MB`;
  }
  if (bytes >= 1024) {
    return `${format.format(bytes / 1024)} KB`;
  }
  return `${format.format(bytes)} B`;
}

// ---- Profile (portal API): what the registry knows, and what I may correct ----

async function renderProfile(context) {
  const { element, text } = context;
  const profile = await optionalJson(context, "/api/portal/profile");
  if (!profile) {
    return false;
  }
  const english = context.config.locale === "en";
  const areaName = (area) => (english ? area.name_en : area.name) || area.name || area.code;
  const details = document.getElementById("profile-details");
  const household = profile.household.length
    ? profile.household.map((member) => (english ? `${member.name} (${member.age})` : `${member.name}（${member.age}）`)).join(english ? ", " : "、")
    : text.none;
  const rows = [
    [text.age, String(profile.age)],
    [text.district, areaName(profile.district)],
    [text.community, areaName(profile.community)],
    [text.household, household],
    [text.occupation, profile.occupation.value || text.none],
    [
      text.interests,
      profile.interests.length
        ? profile.interests.map((item) => (english ? item.label_en : item.label_zh)).join(english ? ", " : "、")
        : text.none,
    ],
  ];
  for (const [term, value] of rows) {
    details.append(element("dt", { text: term }), element("dd", { text: value }));
  }
  const vocabulary = (await optionalJson(context, "/api/portal/interests")) || [];
  const chosen = new Set(profile.interests.map((item) => item.code));
  const status = element("p", { className: "portal-status", role: "status", hidden: true });
  const occupation = element("input", {
    id: "profile-occupation",
    name: "occupation",
    type: "text",
    maxlength: "64",
    value: profile.occupation.value || "",
  });
  const boxes = vocabulary.map((item) =>
    element("label", { className: "check" }, [
      element("input", {
        type: "checkbox",
        name: "interests",
        value: item.code,
        checked: chosen.has(item.code),
      }),
      ` ${english ? item.label_en : item.label_zh}`,
    ]),
  );
  const receive = element("input", {
    id: "profile-receive-notices",
    type: "checkbox",
    name: "receive_notices",
    checked: profile.contact.receive_notices,
  });
  const form = element("form", { className: "portal-form", id: "profile-form", novalidate: true }, [
    element("div", { className: "field" }, [
      element("label", { for: "profile-occupation", text: text.occupation }),
      occupation,
    ]),
    element("fieldset", { className: "checks" }, [element("legend", { text: text.interests }), ...boxes]),
    element("label", { className: "check" }, [receive, ` ${text.receiveNotices}`]),
    status,
    element("button", { type: "submit", className: "button button--primary", text: text.save }),
  ]);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    announce(status, text.saving);
    const interests = [...form.querySelectorAll('input[name="interests"]:checked')].map((box) => box.value);
    const response = await context.apiFetch("/api/portal/profile", {
      method: "PUT",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({
        occupation: occupation.value.trim() || null,
        interests,
        contact: { channels: profile.contact.channels, receive_notices: receive.checked },
      }),
    });
    if (response.ok) {
      announce(status, text.saved);
    } else {
      const problem = await problemOf(response);
      announce(status, text.saveFailed + (problem.detail || problem.status));
    }
  });
  const edit = element("details", { id: "profile-edit" }, [element("summary", { text: text.editProfile }), form]);
  document.getElementById("profile-extra").replaceChildren(edit);
  return true;
}

// ---- Notices that concern me (targeting) ----

async function renderNotices(context) {
  const { element, text } = context;
  const notices = await optionalJson(context, `/api/targeting/mine?lang=${context.config.locale}`);
  if (notices === null) {
    return false;
  }
  const body = document.getElementById("notices-body");
  if (!notices.length) {
    say(context, "notices-body", text.noNotices, "hint");
    return true;
  }
  body.replaceChildren(
    element(
      "ul",
      { className: "item-list", id: "notices-list" },
      notices.map((notice) =>
        element("li", { className: notice.read ? "item" : "item item--unread", "data-notice": String(notice.id) }, [
          element("div", { className: "item__main" }, [
            element("p", { className: "item__title", text: notice.title }),
            element("p", { className: "item__body", text: notice.body }),
            element("p", {
              className: "item__meta",
              text: context.dateTimeFormat.format(new Date(notice.publish_at)),
            }),
          ]),
        ]),
      ),
    ),
  );
  return true;
}

// ---- Documents (portal API): list, upload with progress, quota ----

function upload(context, file, onProgress) {
  // fetch cannot report upload progress; XMLHttpRequest can.
  return context.accessToken().then(
    (token) =>
      new Promise((resolve, reject) => {
        const request = new XMLHttpRequest();
        request.open("POST", `/api/portal/documents?name=${encodeURIComponent(file.name)}`);
        request.setRequestHeader("Authorization", `Bearer ${token}`);
        request.setRequestHeader("Content-Type", file.type || "application/octet-stream");
        request.setRequestHeader("Accept", "application/json");
        request.upload.addEventListener("progress", (event) => {
          if (event.lengthComputable) {
            onProgress(event.loaded / event.total);
          }
        });
        request.addEventListener("load", () => {
          let body = {};
          try {
            body = JSON.parse(request.responseText || "{}");
          } catch {
            // Not JSON: the status says enough.
          }
          resolve({ ok: request.status >= 200 && request.status < 300, status: request.status, body });
        });
        request.addEventListener("error", () => reject(new Error("network")));
        request.send(file);
      }),
  );
}

async function renderDocuments(context) {
  const { element, text } = context;
  const listing = await optionalJson(context, "/api/portal/documents");
  if (listing === null) {
    return false;
  }
  const body = document.getElementById("documents-body");
  const usedText = text.quotaUsed
    .replace("{used}", formatBytes(context, listing.used_bytes))
    .replace("{quota}", formatBytes(context, listing.quota_bytes));
  const quota = element("div", { className: "quota" }, [
    element("label", { for: "documents-quota", text: usedText }),
    element("progress", {
      id: "documents-quota",
      max: String(listing.quota_bytes),
      value: String(listing.used_bytes),
    }),
  ]);
  const items = listing.documents.map((doc) => {
    const download = element("button", {
      type: "button",
      className: "button button--small",
      "aria-label": `${text.download}：${doc.name}`,
      text: text.download,
    });
    download.addEventListener("click", async () => {
      const response = await context.apiFetch(`/api/portal/documents/${doc.id}/content`, {
        headers: { Accept: "*/*" },
      });
      if (!response.ok) {
        return;
      }
      const url = URL.createObjectURL(await response.blob());
      const link = element("a", { href: url, download: doc.name });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    });
    const remove = element("button", {
      type: "button",
      className: "button button--small",
      "aria-label": `${text.delete}：${doc.name}`,
      text: text.delete,
    });
    remove.addEventListener("click", async () => {
      if (!window.confirm(text.confirmDelete.replace("{name}", doc.name))) {
        return;
      }
      const response = await context.apiFetch(`/api/portal/documents/${doc.id}`, { method: "DELETE" });
      if (response.ok) {
        await renderDocuments(context);
        document.getElementById("documents-heading").focus();
      }
    });
    return element("li", { className: "item", "data-document": String(doc.id) }, [
      element("div", { className: "item__main" }, [
        element("p", { className: "item__title", text: doc.name }),
        element("p", {
          className: "item__meta",
          text: `${formatBytes(context, doc.size_bytes)} · ${context.dateTimeFormat.format(new Date(doc.uploaded_at))}`,
        }),
      ]),
      element("div", { className: "item__side" }, [download, remove]),
    ]);
  });
  const status = element("p", { className: "portal-status", id: "documents-status", role: "status", hidden: true });
  const progress = element("progress", { id: "documents-progress", max: "100", value: "0", hidden: true, "aria-label": text.uploading });
  const fileInput = element("input", { id: "documents-file", name: "file", type: "file", accept: ".pdf,.jpg,.jpeg,.png,.ofd,.txt" });
  const form = element("form", { className: "portal-form", novalidate: true }, [
    element("div", { className: "field" }, [
      element("label", { for: "documents-file", text: text.chooseDocument }),
      fileInput,
      element("p", {
        className: "hint",
        text: text.documentHint.replace("{size}", formatBytes(context, listing.max_file_bytes)),
      }),
    ]),
    progress,
    status,
    element("button", { type: "submit", className: "button button--primary", text: text.upload }),
  ]);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const file = fileInput.files[0];
    if (!file) {
      announce(status, text.chooseDocumentFirst);
      fileInput.focus();
      return;
    }
    if (file.size > listing.max_file_bytes) {
      announce(status, text.tooLarge);
      return;
    }
    progress.hidden = false;
    progress.value = 0;
    announce(status, text.uploading);
    try {
      const answer = await upload(context, file, (share) => {
        progress.value = Math.round(share * 100);
      });
      if (answer.ok) {
        announce(status, text.uploaded.replace("{name}", file.name));
        await renderDocuments(context);
        announce(document.getElementById("documents-status"), text.uploaded.replace("{name}", file.name));
      } else if (answer.status === 413) {
        announce(status, text.overQuota);
      } else {
        announce(status, text.uploadFailed + (answer.body.detail || answer.status));
      }
    } catch {
      announce(status, text.uploadFailed);
    } finally {
      progress.hidden = true;
    }
  });
  body.replaceChildren(
    quota,
    listing.documents.length
      ? element("ul", { className: "item-list", id: "documents-list" }, items)
      : element("p", { className: "hint", text: text.noDocuments }),
    form,
  );
  return true;
}

// ---- Journeys (场景式服务): what a life event needs, across departments ----

function localized(context, item, field) {
  return context.config.locale === "en" ? item[`${field}_en`] || item[`${field}_zh`] : item[`${field}_zh`];
}

function departmentName(context, department) {
  return (context.config.locale === "en" ? department.name_en : department.name) || department.name || department.code;
}

async function renderJourney(context, slug, container) {
  const { element, text } = context;
  const journey = await optionalJson(context, `/api/portal/journeys/${encodeURIComponent(slug)}`);
  if (!journey) {
    return;
  }
  const status = element("p", { className: "hint", role: "status" });
  const children = [];
  if (!journey.started) {
    const start = element("button", { type: "button", className: "button button--small", text: text.startJourney });
    start.addEventListener("click", async () => {
      const response = await context.apiFetch(`/api/portal/journeys/${encodeURIComponent(slug)}/start`, { method: "POST" });
      if (response.ok) {
        await renderJourney(context, slug, container);
        container.querySelector("input, button")?.focus();
      }
    });
    children.push(start);
  } else {
    status.textContent = context.fill(text.journeyProgress, { done: journey.done_steps, total: journey.steps.length });
  }
  const steps = journey.steps.map((step) => {
    const id = `journey-${slug}-${step.slug}`;
    const box = element("input", { type: "checkbox", id, checked: Boolean(step.done), disabled: !journey.started });
    box.addEventListener("change", async () => {
      const response = await context.apiFetch(
        `/api/portal/journeys/${encodeURIComponent(slug)}/steps/${encodeURIComponent(step.slug)}`,
        { method: "PUT", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ done: box.checked }) },
      );
      if (response.ok) {
        const updated = await response.json();
        status.textContent = context.fill(text.journeyProgress, { done: updated.done_steps, total: updated.steps.length });
      } else {
        box.checked = !box.checked;
      }
    });
    const documents = step.documents.map((needed) =>
      element("li", {
        text: `${localized(context, needed, "label")}${needed.in_storage ? ` · ${text.inStorage}` : ""}`,
      }),
    );
    return element("li", { className: "step" }, [
      element("label", { className: "check", for: id }, [box, ` ${localized(context, step, "title")}`]),
      element("p", { className: "item__meta", text: departmentName(context, step.department) }),
      documents.length ? element("ul", { className: "needed" }, documents) : "",
    ]);
  });
  container.replaceChildren(...children, status, element("ol", { className: "steps" }, steps));
}

async function renderJourneys(context) {
  const { element } = context;
  const journeys = await optionalJson(context, "/api/portal/journeys");
  if (journeys === null) {
    return false;
  }
  const list = journeys.map((journey) => {
    const body = element("div", { className: "journey" });
    const details = element("details", { "data-journey": journey.slug }, [
      element("summary", { text: localized(context, journey, "title") }),
      element("p", { className: "hint", text: localized(context, journey, "summary") }),
      body,
    ]);
    details.addEventListener("toggle", () => {
      if (details.open && !body.childElementCount) {
        renderJourney(context, journey.slug, body).catch(() => {});
      }
    });
    return details;
  });
  document.getElementById("journeys-body").replaceChildren(...list);
  return true;
}

// ---- Policy drafts (征求意见) with comments, and suggestions (建言献策) ----

async function renderDraft(context, draft, container) {
  const { element, text } = context;
  const detail = await optionalJson(context, `/api/portal/drafts/${draft.id}`);
  if (!detail) {
    return;
  }
  const comments = detail.comment_list.map((comment) =>
    element("li", { className: "comment" }, [
      element("p", { className: "item__meta", text: `${comment.author} · ${context.dateTimeFormat.format(new Date(comment.created_at))}` }),
      element("p", { className: "item__body", text: comment.body }),
      comment.reply ? element("p", { className: "reply", text: `${text.reply}${comment.reply}` }) : "",
    ]),
  );
  const children = [
    element("p", { className: "item__body draft-body", text: detail.body }),
    element("h4", { text: context.fill(text.commentsCount, { count: detail.comment_list.length }) }),
    comments.length ? element("ul", { className: "comments" }, comments) : element("p", { className: "hint", text: text.noComments }),
  ];
  if (detail.status === "open") {
    const id = `draft-${draft.id}-comment`;
    const area = element("textarea", { id, name: "body", rows: "3", maxlength: "1000", "aria-describedby": `${id}-status` });
    const status = element("p", { id: `${id}-status`, className: "portal-status", role: "status", hidden: true });
    const form = element("form", { className: "portal-form", novalidate: true }, [
      element("div", { className: "field" }, [element("label", { for: id, text: text.yourComment }), area]),
      status,
      element("button", { type: "submit", className: "button button--primary", text: text.sendComment }),
    ]);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (area.value.trim().length < 2) {
        announce(status, text.commentTooShort);
        area.setAttribute("aria-invalid", "true");
        area.focus();
        return;
      }
      area.removeAttribute("aria-invalid");
      const response = await context.apiFetch(`/api/portal/drafts/${draft.id}/comments`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ body: area.value.trim() }),
      });
      if (response.ok) {
        await renderDraft(context, draft, container);
        announce(container.querySelector(".draft-sent") || container.appendChild(element("p", { className: "portal-status draft-sent", role: "status" })), text.commentSent);
      } else {
        const problem = await problemOf(response);
        announce(status, text.sendFailed + (problem.detail || problem.status));
      }
    });
    children.push(form);
  } else {
    children.push(element("p", { className: "hint", text: text.draftClosed }));
  }
  container.replaceChildren(...children);
}

async function renderDrafts(context) {
  const { element, text } = context;
  const drafts = await optionalJson(context, "/api/portal/drafts?status=open");
  if (drafts === null) {
    return false;
  }
  const body = document.getElementById("drafts-body");
  if (!drafts.length) {
    body.replaceChildren(element("p", { className: "hint", text: text.noDrafts }));
    return true;
  }
  body.replaceChildren(
    ...drafts.map((draft) => {
      const inner = element("div", { className: "draft" });
      const details = element("details", { "data-draft": String(draft.id) }, [
        element("summary", { text: draft.title }),
        element("p", {
          className: "item__meta",
          text: `${departmentName(context, draft.department)} · ${context.fill(text.closesOn, {
            date: context.dateTimeFormat.format(new Date(draft.closes_at)),
          })} · ${context.fill(text.commentsCount, { count: draft.comments })}`,
        }),
        inner,
      ]);
      details.addEventListener("toggle", () => {
        if (details.open && !inner.childElementCount) {
          renderDraft(context, draft, inner).catch(() => {});
        }
      });
      return details;
    }),
  );
  return true;
}

// ---- Suggestions (建言献策): mine with the answers, and a new one ----

async function renderSuggestions(context, announcement = "") {
  const { element, text } = context;
  const mine = await optionalJson(context, "/api/portal/suggestions/mine?limit=20");
  if (mine === null) {
    return false;
  }
  const items = mine.map((item) =>
    element("li", { className: "comment", "data-suggestion": String(item.id) }, [
      element("p", { className: "item__title", text: item.title }),
      element("p", { className: "item__meta", text: `${departmentName(context, item.department)} · ${context.dateTimeFormat.format(new Date(item.created_at))}` }),
      item.reply
        ? element("p", { className: "reply", text: `${text.reply}${item.reply}` })
        : element("p", { className: "hint", text: text.awaitingReply }),
    ]),
  );
  const fields = {};
  const fieldError = (name) => element("p", { id: `suggestion-${name}-error`, className: "field-error", hidden: true });
  const select = element("select", { id: "suggestion-department", name: "department_code", "aria-describedby": "suggestion-department_code-error" }, [
    element("option", { value: "", text: text.chooseDepartment }),
    ...context.config.departments.map((department) => element("option", { value: department.code, text: department.name })),
  ]);
  const title = element("input", { id: "suggestion-title", name: "title", type: "text", maxlength: "200", "aria-describedby": "suggestion-hint suggestion-title-error" });
  const body = element("textarea", { id: "suggestion-body", name: "body", rows: "4", maxlength: "3000", "aria-describedby": "suggestion-hint suggestion-body-error" });
  Object.assign(fields, { department_code: select, title, body });
  const status = element("p", { className: "portal-status", id: "suggestion-status", role: "status", hidden: !announcement, text: announcement });
  const form = element("form", { className: "portal-form", novalidate: true }, [
    element("h4", { text: text.newSuggestion }),
    element("div", { className: "field" }, [element("label", { for: "suggestion-department", text: text.department }), select, fieldError("department_code")]),
    element("div", { className: "field" }, [element("label", { for: "suggestion-title", text: text.suggestionTitle }), title, fieldError("title")]),
    element("div", { className: "field" }, [element("label", { for: "suggestion-body", text: text.suggestionBody }), body, fieldError("body")]),
    element("p", { id: "suggestion-hint", className: "hint", text: text.suggestionHint }),
    status,
    element("button", { type: "submit", className: "button button--primary", text: text.sendSuggestion }),
  ]);
  const setError = (name, message) => {
    const error = document.getElementById(`suggestion-${name}-error`);
    error.textContent = message || "";
    error.hidden = !message;
    if (message) {
      fields[name].setAttribute("aria-invalid", "true");
    } else {
      fields[name].removeAttribute("aria-invalid");
    }
  };
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const values = { department_code: select.value, title: title.value.trim(), body: body.value.trim() };
    let first = null;
    for (const [name, value] of Object.entries(values)) {
      setError(name, value ? "" : text.required);
      first ??= value ? null : fields[name];
    }
    if (first) {
      first.focus();
      return;
    }
    const response = await context.apiFetch("/api/portal/suggestions", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(values),
    });
    if (response.ok) {
      await renderSuggestions(context, text.suggestionSent);
      document.getElementById("suggestions-heading").focus();
      return;
    }
    const problem = await problemOf(response);
    const field = fields[problem.part] ? problem.part : null;
    if (field) {
      setError(field, problem.detail);
      fields[field].focus();
    } else {
      announce(status, text.sendFailed + (problem.detail || problem.status));
    }
  });
  document.getElementById("suggestions-body").replaceChildren(
    element("h4", { text: text.mySuggestions }),
    items.length ? element("ul", { className: "comments" }, items) : element("p", { className: "hint", text: text.noSuggestions }),
    form,
  );
  return true;
}

const SECTIONS = [
  { id: "profile-extra", app: "portal", render: renderProfile, quiet: true },
  { id: "card-body", app: "card", render: renderCard },
  { id: "notices-body", app: "targeting", render: renderNotices },
  { id: "documents-body", app: "portal", render: renderDocuments },
  { id: "journeys-body", app: "portal", render: renderJourneys },
  { id: "drafts-body", app: "portal", render: renderDrafts },
  { id: "suggestions-body", app: "portal", render: renderSuggestions },
  { id: "applications-body", app: "applications", render: null },
  { id: "complaints-body", app: "complaints", render: null },
];

/** Let another module (the card section) plug in its renderer. */
export function setRenderer(id, render) {
  const section = SECTIONS.find((item) => item.id === id);
  section.render = render;
}

export async function renderExtraSections(context) {
  await Promise.all(
    SECTIONS.map(async (section) => {
      if (!installed(context, section.app)) {
        say(context, section.id, context.text.notAvailable);
        return;
      }
      if (!section.render) {
        say(context, section.id, context.text.notAvailableYet);
        return;
      }
      try {
        const shown = await section.render(context);
        if (shown === false && !section.quiet) {
          say(context, section.id, context.text.notAvailableYet);
        }
      } catch (error) {
        say(context, section.id, context.text.loadFailed + error.message);
      }
    }),
  );
}
