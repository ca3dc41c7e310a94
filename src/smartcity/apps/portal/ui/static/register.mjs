// 注册 page: citizen registration. The ID checksum (GB 11643) is checked here only as a
// typing hint; the server stays the judge, and its 422s are shown beside their fields.

import { announce, pageUrl, readConfig, requestToken, saveTokens } from "./session.mjs";

const config = readConfig("portal-config");
const text = config.text;

const form = document.getElementById("register-form");
const status = document.getElementById("register-status");
const submit = document.getElementById("register-submit");
const nationalId = document.getElementById("register-national-id");
const idHint = document.getElementById("register-national-id-hint");
const defaultHint = idHint.textContent;

const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK_CHARACTERS = "10X98765432";

/** The check character GB 11643 gives the first 17 digits. */
export function checkCharacter(first17) {
  let sum = 0;
  for (let index = 0; index < 17; index += 1) {
    sum += Number(first17[index]) * WEIGHTS[index];
  }
  return CHECK_CHARACTERS[sum % 11];
}

/** A hint about a typed ID: [message, whether it looks wrong]. */
export function idHintFor(value) {
  const id = value.trim().toUpperCase();
  if (!id) {
    return [defaultHint, false];
  }
  if (id.length !== 18) {
    return [text.idLength.replace("{count}", String(id.length)), id.length > 18];
  }
  if (!/^[0-9]{17}[0-9X]$/.test(id)) {
    return [text.idCharacters, true];
  }
  const expected = checkCharacter(id.slice(0, 17));
  if (expected !== id[17]) {
    return [text.idChecksumWrong.replace("{expected}", expected), true];
  }
  return [text.idChecksumRight, false];
}

nationalId.addEventListener("input", () => {
  const [message] = idHintFor(nationalId.value);
  idHint.textContent = message;
});

const FIELDS = {
  national_id: nationalId,
  name: document.getElementById("register-name"),
  password: document.getElementById("register-password"),
};

function setFieldError(name, message) {
  const input = FIELDS[name];
  const error = document.getElementById(`${input.id}-error`);
  error.textContent = message || "";
  error.hidden = !message;
  if (message) {
    input.setAttribute("aria-invalid", "true");
  } else {
    input.removeAttribute("aria-invalid");
  }
}

// Which field a problem document is about: its ``part`` (domain errors) or the body
// field named in ``errors`` (request validation).
const PART_FIELDS = {
  "national id": "national_id",
  username: "national_id",
  length: "national_id",
  characters: "national_id",
  "check character": "national_id",
  "birth date": "national_id",
  "division code": "national_id",
  name: "name",
  password: "password",
};

function fieldErrorsOf(problem) {
  const errors = {};
  if (Array.isArray(problem.errors)) {
    for (const item of problem.errors) {
      const match = /body field '([a-z_]+)'/.exec(item.location || "");
      if (match && FIELDS[match[1]]) {
        errors[match[1]] ??= item.message;
      }
    }
  }
  const field = PART_FIELDS[problem.part];
  if (field) {
    let message = problem.detail;
    if (problem.status === 404 && field === "national_id") {
      message = text.notInRegistry;
    } else if (problem.status === 409) {
      message = text.alreadyRegistered;
    }
    errors[field] = message;
  }
  return errors;
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const values = {
    national_id: nationalId.value.trim().toUpperCase(),
    name: FIELDS.name.value.trim(),
    password: FIELDS.password.value,
  };
  let firstInvalid = null;
  for (const [name, value] of Object.entries(values)) {
    setFieldError(name, value ? "" : text.required);
    if (!value && !firstInvalid) {
      firstInvalid = FIELDS[name];
    }
  }
  if (firstInvalid) {
    announce(status, text.fixFields);
    firstInvalid.focus();
    return;
  }
  submit.disabled = true;
  announce(status, text.registering);
  try {
    const response = await fetch("/auth/register/citizen", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(values),
    });
    if (!response.ok) {
      let problem = { status: response.status };
      try {
        problem = { ...problem, ...(await response.json()) };
      } catch {
        // Not a problem document.
      }
      const errors = fieldErrorsOf(problem);
      const names = Object.keys(errors);
      for (const name of names) {
        setFieldError(name, errors[name]);
      }
      if (names.length) {
        announce(status, text.fixFields);
        FIELDS[names[0]].focus();
      } else {
        announce(status, problem.detail || text.failed);
      }
      return;
    }
    announce(status, text.registered);
    const answer = await requestToken({
      grant_type: "password",
      username: values.national_id,
      password: values.password,
    });
    if (answer.ok) {
      saveTokens(answer.body);
      location.assign(pageUrl("/me"));
    } else {
      location.assign(pageUrl("/me/signin"));
    }
  } catch {
    announce(status, text.network);
  } finally {
    submit.disabled = false;
  }
});
