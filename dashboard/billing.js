// billing.js - what a bot sells and what was bought: products (create, activate,
// deactivate), the bot's users with their balances, and payments with refunds and disputes.
import { get, patch, post } from "./api.js";
import { h, replace, table, toast, when } from "./dom.js";

const money = (amount, currency) => (amount === null || amount === undefined ? "–"
  : (currency || "").toUpperCase() === "XTR" ? `${amount} ⭐` : `${(amount / 100).toFixed(2)} ${(currency || "").toUpperCase()}`);

// dispute - one of a payment's disputes: its status, amount and the card network's reason
const dispute = (d) => h("span", { class: "dispute" }, [d.status || "open", money(d.amount, d.currency), d.reason].filter(Boolean).join(" · "));

export async function billingPage(main, { me }) {
  const { bots } = await get("/v1/bots");
  const canManage = me.role === "admin" || me.role === "owner";
  if (!bots.length) {
    replace(main, h("h1", {}, "Billing"), h("p", { class: "muted" }, "No bots yet."));
    return;
  }
  const fBot = h("select", { id: "bl-bot" }, bots.map((b) => h("option", { value: b.id }, b.name || `bot ${b.id}`)));
  const products = h("div", { id: "bl-products" });
  const users = h("div", { id: "bl-users" });
  const payments = h("div", { id: "bl-payments" });

  async function load() {
    const id = fBot.value;
    const [p, u, pay] = await Promise.all([get(`/v1/bots/${id}/products`), get(`/v1/bots/${id}/users?limit=100`), get(`/v1/bots/${id}/payments?limit=100`)]);
    replace(products, p.products.length ? table([
      { title: "Product", get: (x) => x.label },
      { title: "Gives", get: (x) => [x.credits ? `${x.credits} credits` : "", x.pass_seconds ? `${Math.round(x.pass_seconds / 86400)} d pass` : ""].filter(Boolean).join(" + ") },
      { title: "Price", get: (x) => money(x.price, x.currency) + (x.stars_price ? ` / ${x.stars_price} ⭐` : "") },
      { title: "State", get: (x) => (x.active ? "active" : "inactive") },
      { title: "", get: (x) => canManage ? h("button", { type: "button", onclick: async () => {
        try { await patch(`/v1/bots/${id}/products/${x.id}`, { active: !x.active }); await load(); } catch (e) { toast(e.message, "error"); }
      } }, x.active ? "Deactivate" : "Activate") : "" },
    ], p.products) : h("p", { class: "muted" }, "No products."));
    replace(users, u.users.length ? table([
      { title: "User", get: (x) => [x.first_name, x.last_name].filter(Boolean).join(" ") || x.user_id },
      { title: "Username", get: (x) => (x.username ? "@" + x.username : "–") },
      { title: "Credits", get: (x) => x.credits },
      { title: "Pass", get: (x) => (x.pass_active ? `until ${when(x.pass_until)}` : "–") },
      { title: "Spent", get: (x) => x.spent },
      { title: "Last seen", get: (x) => when(x.last_seen_at) },
    ], u.users) : h("p", { class: "muted" }, "No users yet."));
    replace(payments, pay.payments.length ? table([
      { title: "Payment", get: (x) => `#${x.id}` },
      { title: "User", get: (x) => x.user_id },
      { title: "Kind", get: (x) => x.kind },
      { title: "Status", get: (x) => (x.failure ? `${x.status}: ${x.failure}` : x.status) },
      { title: "Amount", get: (x) => money(x.amount, x.currency) },
      { title: "Refunded", get: (x) => (x.refunded_amount ? `${money(x.refunded_amount, x.currency)} (${x.refunded_credits} credits${x.owed ? `, ${x.owed} owed` : ""})` : "–") },
      { title: "Disputes", get: (x) => (x.disputes && x.disputes.length ? x.disputes.map((d) => [dispute(d), h("br")]).flat().slice(0, -1) : "–") },
      { title: "Paid", get: (x) => when(x.paid_at) },
    ], pay.payments, { rowAttrs: (x) => ({ "data-id": x.id, class: x.disputes && x.disputes.length ? "disputed" : "" }) }) : h("p", { class: "muted" }, "No payments yet."));
  }

  const label = h("input", { id: "pr-label", required: true, maxlength: 64 });
  const credits = h("input", { id: "pr-credits", type: "number", min: 0, value: 100 });
  const price = h("input", { id: "pr-price", type: "number", min: 1, value: 500 });
  const currency = h("input", { id: "pr-currency", value: "usd", maxlength: 3, pattern: "[a-z]{3}" });
  const form = canManage ? h("form", { class: "card", id: "product-form", onsubmit: async (e) => {
    e.preventDefault();
    try {
      await post(`/v1/bots/${fBot.value}/products`, { label: label.value, credits: Number(credits.value), price: Number(price.value), currency: currency.value });
      label.value = "";
      toast("Product created");
      await load();
    } catch (err) {
      toast(err.message, "error");
    }
  } }, h("h2", {}, "New product"),
  h("label", { for: "pr-label" }, "Label"), label,
  h("label", { for: "pr-credits" }, "Credits"), credits,
  h("label", { for: "pr-price" }, "Price (minor units)"), price,
  h("label", { for: "pr-currency" }, "Currency"), currency,
  h("button", { type: "submit" }, "Create product")) : null;

  replace(main, h("h1", {}, "Billing"),
    h("form", { class: "filters", onchange: load, onsubmit: (e) => { e.preventDefault(); load(); } }, h("label", { for: "bl-bot" }, "Bot"), fBot),
    h("h2", {}, "Products"), products, form,
    h("h2", {}, "Users"), users,
    h("h2", {}, "Payments"), payments);
  await load();
}
