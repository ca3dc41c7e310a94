// The sections of 我的主页 that other apps feed: the citizen card, notices that concern
// me, documents, journeys, policy drafts, applications and complaints. A section whose
// app is not installed (or whose API is not there yet) says so plainly: never fake data.

function notAvailable(context, id, message) {
  const body = document.getElementById(id);
  body.replaceChildren(context.element("p", { className: "hint unavailable", text: message }));
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
    throw new Error(`${path}: HTTP ${response.status}`);
  }
  return response.json();
}

const SECTIONS = [
  { id: "card-body", app: "card", render: null },
  { id: "notices-body", app: "targeting", render: null },
  { id: "documents-body", app: "portal", render: null },
  { id: "journeys-body", app: "portal", render: null },
  { id: "drafts-body", app: "portal", render: null },
  { id: "applications-body", app: "applications", render: null },
  { id: "complaints-body", app: "complaints", render: null },
];

export const RENDERERS = {};

export async function renderExtraSections(context) {
  for (const section of SECTIONS) {
    const render = RENDERERS[section.id];
    if (!installed(context, section.app)) {
      notAvailable(context, section.id, context.text.notAvailable);
    } else if (!render) {
      notAvailable(context, section.id, context.text.notAvailableYet);
    } else {
      try {
        const shown = await render(context, optionalJson);
        if (shown === false) {
          notAvailable(context, section.id, context.text.notAvailableYet);
        }
      } catch (error) {
        notAvailable(context, section.id, context.text.loadFailed + error.message);
      }
    }
  }
}
