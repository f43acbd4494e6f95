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
