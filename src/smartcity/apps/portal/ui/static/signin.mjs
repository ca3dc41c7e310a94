// 登录 page: password (with the TOTP step when the account asks for it), or a platform
// certificate signed in the browser with WebCrypto. Strings come from #portal-config.

import { announce, pageUrl, readConfig, requestToken, saveTokens } from "./session.mjs";

const config = readConfig("portal-config");
const text = config.text;
const CERTIFICATE_GRANT = "urn:smartcity:params:oauth:grant-type:certificate";

const form = document.getElementById("signin-form");
const status = document.getElementById("signin-status");
const totpGroup = document.getElementById("signin-totp-group");
const totpInput = document.getElementById("signin-totp");
const submit = document.getElementById("signin-submit");

export const state = { ready: Promise.resolve() };
window.smartcityPortalSignIn = state;

function goHome() {
  const next = new URLSearchParams(location.search).get("next");
  // Only this site's own paths: an open redirect would hand the token page to anyone.
  const safe = next && next.startsWith("/") && !next.startsWith("//") ? next : "/me";
  location.assign(pageUrl(safe));
}

function markInvalid(input, invalid) {
  if (invalid) {
    input.setAttribute("aria-invalid", "true");
  } else {
    input.removeAttribute("aria-invalid");
  }
}

function explain(body) {
  if (body.error === "invalid_grant" && body.totp_required) {
    return text.totpNeeded;
  }
  if (body.retry_at) {
    return text.locked.replace("{time}", new Date(body.retry_at).toLocaleString(config.languageTag));
  }
  if (body.error === "invalid_grant") {
    return text.wrongCredentials;
  }
  return body.error_description || text.failed;
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const username = form.elements.username;
  const password = form.elements.password;
  for (const input of [username, password, totpInput]) {
    markInvalid(input, false);
  }
  if (!username.value.trim() || !password.value) {
    announce(status, text.fillBoth);
    markInvalid(username.value.trim() ? password : username, true);
    (username.value.trim() ? password : username).focus();
    return;
  }
  submit.disabled = true;
  announce(status, text.signingIn);
  const fields = {
    grant_type: "password",
    username: username.value.trim().toUpperCase(),
    password: password.value,
  };
  if (!totpGroup.hidden && totpInput.value.trim()) {
    fields.totp = totpInput.value.trim();
  }
  try {
    const answer = await requestToken(fields);
    if (answer.ok) {
      saveTokens(answer.body);
      announce(status, text.signedIn);
      goHome();
      return;
    }
    announce(status, explain(answer.body));
    if (answer.body.totp_required) {
      const wasHidden = totpGroup.hidden;
      totpGroup.hidden = false;
      markInvalid(totpInput, !wasHidden);
      totpInput.focus();
    } else {
      markInvalid(password, true);
      password.focus();
    }
  } catch {
    announce(status, text.network);
  } finally {
    submit.disabled = false;
  }
});

// ---- Certificate sign-in (WebCrypto) ----

const certificateForm = document.getElementById("certificate-form");
const certificateStatus = document.getElementById("certificate-status");

function pemBody(pem, label) {
  const match = pem.match(new RegExp(`-----BEGIN ${label}-----([\\s\\S]+?)-----END ${label}-----`));
  if (!match) {
    return null;
  }
  const binary = atob(match[1].replace(/\s+/g, ""));
  return Uint8Array.from(binary, (character) => character.charCodeAt(0));
}

function base64(bytes) {
  let binary = "";
  for (const byte of bytes) {
    binary += String.fromCharCode(byte);
  }
  return btoa(binary);
}

// WebCrypto signs ECDSA as r||s (IEEE P1363); the server wants the DER SEQUENCE of two
// INTEGERs, as OpenSSL makes it.
function derInteger(bytes) {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) {
    start += 1;
  }
  let value = Array.from(bytes.slice(start));
  if (value[0] & 0x80) {
    value = [0, ...value];
  }
  return [0x02, value.length, ...value];
}

export function p1363ToDer(signature) {
  const half = signature.length / 2;
  const body = [...derInteger(signature.slice(0, half)), ...derInteger(signature.slice(half))];
  const length = body.length < 0x80 ? [body.length] : [0x81, body.length];
  return new Uint8Array([0x30, ...length, ...body]);
}

async function importKey(pkcs8) {
  for (const [curve, hash] of [["P-256", "SHA-256"], ["P-384", "SHA-256"]]) {
    try {
      const key = await crypto.subtle.importKey(
        "pkcs8", pkcs8, { name: "ECDSA", namedCurve: curve }, false, ["sign"]);
      return { key, hash };
    } catch {
      // Not this curve; try the next.
    }
  }
  return null;
}

if (!(window.crypto && crypto.subtle)) {
  // WebCrypto exists only in secure contexts (HTTPS, or http://localhost).
  certificateForm.querySelector("fieldset").disabled = true;
  announce(certificateStatus, text.noWebCrypto);
}

certificateForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const certificateFile = certificateForm.elements.certificate.files[0];
  const keyFile = certificateForm.elements.key.files[0];
  if (!certificateFile || !keyFile) {
    announce(certificateStatus, text.chooseFiles);
    return;
  }
  announce(certificateStatus, text.signingIn);
  try {
    const certificatePem = await certificateFile.text();
    const keyPem = await keyFile.text();
    if (!pemBody(certificatePem, "CERTIFICATE")) {
      announce(certificateStatus, text.badCertificate);
      return;
    }
    const pkcs8 = pemBody(keyPem, "PRIVATE KEY");
    const imported = pkcs8 ? await importKey(pkcs8) : null;
    if (!imported) {
      announce(certificateStatus, text.badKey);
      return;
    }
    const challengeResponse = await fetch("/auth/certificate/challenge", { method: "POST" });
    const challenge = await challengeResponse.json();
    const signature = new Uint8Array(await crypto.subtle.sign(
      { name: "ECDSA", hash: imported.hash }, imported.key,
      new TextEncoder().encode(challenge.challenge)));
    const answer = await requestToken({
      grant_type: CERTIFICATE_GRANT,
      certificate: certificatePem,
      challenge_id: challenge.challenge_id,
      challenge: challenge.challenge,
      signature: base64(p1363ToDer(signature)),
    });
    if (answer.ok) {
      saveTokens(answer.body);
      announce(certificateStatus, text.signedIn);
      goHome();
      return;
    }
    announce(certificateStatus, answer.body.error_description || text.failed);
  } catch {
    announce(certificateStatus, text.network);
  }
});
