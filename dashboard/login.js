// login.js - the login page: email and password, POST /v1/session.
import { post } from "./api.js";
import { h, replace, text } from "./dom.js";

export function loginPage(main, done) {
  const email = h("input", { id: "email", type: "email", name: "email", autocomplete: "username", required: true });
  const password = h("input", { id: "password", type: "password", name: "password", autocomplete: "current-password", required: true });
  const error = h("p", { class: "error", role: "alert", id: "login-error" });
  const button = h("button", { type: "submit" }, "Log in");
  const form = h("form", { class: "login card", onsubmit: async (e) => {
    e.preventDefault();
    text(error, "");
    button.disabled = true;
    try {
      const r = await post("/v1/session", { email: email.value, password: password.value });
      password.value = "";
      done(r.account);
    } catch (err) {
      text(error, err.message);
      password.select();
    } finally {
      button.disabled = false;
    }
  } },
  h("h1", {}, "tgm"),
  h("label", { for: "email" }, "Email"), email,
  h("label", { for: "password" }, "Password"), password,
  error, button);
  replace(main, form);
  email.focus();
}

// passwordPage - a password given by someone else is changed before anything else
export function passwordPage(main, done) {
  const current = h("input", { id: "pw-current", type: "password", autocomplete: "current-password", required: true });
  const fresh = h("input", { id: "pw-new", type: "password", autocomplete: "new-password", minlength: 10, required: true });
  const error = h("p", { class: "error", role: "alert" });
  const form = h("form", { class: "login card", id: "password-form", onsubmit: async (e) => {
    e.preventDefault();
    text(error, "");
    try {
      const r = await post("/v1/session/password", { password: current.value, new_password: fresh.value });
      done(r.account);
    } catch (err) {
      text(error, err.message);
    }
  } },
  h("h1", {}, "Choose your password"),
  h("p", { class: "muted" }, "Your password was given to you: choose your own (10 characters or more)."),
  h("label", { for: "pw-current" }, "Current password"), current,
  h("label", { for: "pw-new" }, "New password"), fresh,
  error, h("button", { type: "submit" }, "Change password"));
  replace(main, form);
  current.focus();
}
