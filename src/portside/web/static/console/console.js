// The agents' console: the entry point. Decides between the login screen and the app,
// logs in and out, and starts one App per signed-in session.
//
// The session cookie is HttpOnly, so the page cannot see whether it has one. It asks
// GET /api/v1/auth/me only when this browser has signed in before (a flag in
// localStorage): a fresh browser goes straight to the login screen instead of first
// drawing a 401, which the browser would report as an error in its console.

import { Api } from "./api.js";
import { App } from "./app.js";
import { Toast, byId } from "./dom.js";
import { startDashboard } from "./dashboard.js";
import { startIntents } from "./intents.js";
import { startEngagement } from "./engagement.js";

const SIGNED_IN_FLAG = "portside.console.signedIn";

const api = new Api();
const toast = new Toast(byId("toast"));
const screens = {
  boot: byId("boot"),
  login: byId("login-screen"),
  app: byId("app"),
};
const loginForm = byId("login-form");
const loginEmail = byId("login-email");
const loginPassword = byId("login-password");
const loginSubmit = byId("login-submit");
const loginError = byId("login-error");
let app = null;
let intents = null; // labelling and the Intents view (intents.js)
let dashboard = null; // the Dashboard view (dashboard.js)
let engagement = null; // the Triggers and Coupons views, hot leads (engagement.js)
let agentEmail = "";

function show(name) {
  for (const [key, node] of Object.entries(screens)) node.hidden = key !== name;
}

function remember(signedIn) {
  try {
    if (signedIn) localStorage.setItem(SIGNED_IN_FLAG, "1");
    else localStorage.removeItem(SIGNED_IN_FLAG);
  } catch {
    // storage disabled: the page then asks /auth/me every time
  }
}

function signedInBefore() {
  try {
    return localStorage.getItem(SIGNED_IN_FLAG) === "1";
  } catch {
    return true;
  }
}

function showLogin(message = "") {
  show("login");
  loginError.textContent = message;
  loginError.hidden = !message;
  (loginEmail.value ? loginPassword : loginEmail).focus();
}

/** Signed in (login or /auth/me answered): start the console. */
function enter({ agent, csrf_token: csrfToken }) {
  api.csrfToken = csrfToken;
  api.onSessionEnded = () => leave("Your session has ended; log in again.");
  remember(true);
  agentEmail = agent.email ?? "";
  loginPassword.value = "";
  show("app");
  engagement = startEngagement({ api, agent, toast });
  const onLead = (frame) => engagement?.onLead(frame);
  app = new App({ api, agent, toast, onLead, onSessionEnded: (message) => leave(message) });
  app.start();
  intents = startIntents({ api, agent, toast });
  dashboard = startDashboard({ api, agent, toast });
}

/** Back to the login screen: logged out here, on another device, or the session expired. */
function leave(message = "") {
  // A session that ended by itself: the same agent will most likely sign in again.
  if (message && !loginEmail.value) loginEmail.value = agentEmail;
  app?.stop();
  app = null;
  intents?.stop();
  intents = null;
  dashboard?.stop();
  dashboard = null;
  engagement?.stop();
  engagement = null;
  api.csrfToken = null;
  api.onSessionEnded = null;
  remember(false);
  toast.hide();
  showLogin(message);
}

async function boot() {
  if (!signedInBefore()) {
    showLogin();
    return;
  }
  try {
    enter(await api.get("/api/v1/auth/me"));
  } catch (error) {
    if (error.status === 401) remember(false);
    showLogin(error.status === 401 ? "" : error.message);
  }
}

loginForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  loginSubmit.disabled = true;
  loginError.hidden = true;
  try {
    const answer = await api.post("/api/v1/auth/login", {
      email: loginEmail.value.trim(),
      password: loginPassword.value,
    });
    enter(answer);
  } catch (error) {
    let message = error.message;
    // The server says when to try again; add it if its message does not.
    if (error.code === "rate_limited" && error.retryAfter && !/\d/.test(message)) {
      message += ` Try again in ${error.retryAfter} s.`;
    }
    loginError.textContent = message;
    loginError.hidden = false;
    loginPassword.select();
  } finally {
    loginSubmit.disabled = false;
  }
});

byId("logout").addEventListener("click", async () => {
  try {
    await api.post("/api/v1/auth/logout");
  } catch (error) {
    // 401 / 403: the session was over already. Anything else: still signed in.
    if (error.status !== 401 && error.status !== 403) {
      toast.show(`Could not log out: ${error.message}`);
      return;
    }
  }
  leave();
});

boot();
