// keys.js - the tenant's API keys: create (the key is shown once, with a copy button),
// list with last use, revoke.
import { del, get, post } from "./api.js";
import { h, replace, table, toast, when } from "./dom.js";

export async function keysPage(main, { me }) {
  const listBox = h("div", { id: "key-list" });
  const shown = h("div", { id: "new-key", "aria-live": "polite" });
  const canManage = me.role === "admin" || me.role === "owner";

  async function load() {
    const { keys } = await get("/v1/keys");
    replace(listBox, table([
      { title: "Name", get: (k) => k.name || "–" },
      { title: "Scope", get: (k) => k.scope },
      { title: "Key", get: (k) => h("code", {}, `${k.prefix}…`) },
      { title: "Created", get: (k) => when(k.created_at) },
      { title: "Last used", get: (k) => when(k.last_used_at) },
      { title: "", get: (k) => k.revoked_at ? h("span", { class: "muted" }, "revoked") : canManage ? h("button", { type: "button", class: "danger", onclick: async () => {
        if (!confirm(`Revoke key ${k.prefix}…? Apps using it stop working at once.`)) return;
        try { await del(`/v1/keys/${k.id}`); toast("Key revoked"); await load(); } catch (e) { toast(e.message, "error"); }
      } }, "Revoke") : "" },
    ], keys));
  }

  const name = h("input", { id: "k-name", name: "name", maxlength: 200 });
  const scope = h("select", { id: "k-scope", name: "scope" }, ["read", "send", "admin"].map((s) => h("option", { value: s }, s)));
  const form = h("form", { class: "card", id: "key-form", onsubmit: async (e) => {
    e.preventDefault();
    try {
      const k = await post("/v1/keys", { name: name.value, scope: scope.value });
      const code = h("code", { id: "key-secret" }, k.key);
      replace(shown, h("div", { class: "card notice" },
        h("p", {}, "The new key, shown only now:"), code, " ",
        h("button", { type: "button", onclick: async () => {
          try { await navigator.clipboard.writeText(k.key); toast("Copied"); } catch { toast("Copy failed: select the key and copy it", "error"); }
        } }, "Copy")));
      name.value = "";
      await load();
    } catch (err) {
      toast(err.message, "error");
    }
  } },
  h("h2", {}, "New key"),
  h("label", { for: "k-name" }, "Name"), name,
  h("label", { for: "k-scope" }, "Scope"), scope,
  h("button", { type: "submit" }, "Create key"));

  replace(main, h("h1", {}, "API keys"), form, shown, listBox);
  try {
    await load();
  } catch (e) {
    replace(listBox, h("p", { class: "error" }, e.message));
  }
}
