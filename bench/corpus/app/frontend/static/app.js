// Corner Shop storefront. One page, several views chosen by ?page=.
"use strict";

const PRODUCTS = [
  { sku: "COF-250", name: "House coffee 250 g", priceCents: 890, unit: "piece" },
  { sku: "COF-1KG", name: "House coffee 1 kg", priceCents: 2990, unit: "piece" },
  { sku: "TEA-GRN", name: "Green tea", priceCents: 650, unit: "piece" },
  { sku: "BEANS-LOOSE", name: "Loose beans", priceCents: 1800, unit: "kg" },
];
const SHIPPING_EUR = 4.9;
const params = new URLSearchParams(location.search);
const main = () => document.getElementById("main");
const statusLine = (text) => { document.getElementById("status").textContent = text; };

function formatPrice(cents) {
  return "€" + (cents / 100).toFixed(2);
}

async function api(method, url, body) {
  const user = params.get("user");
  const response = await fetch(url, {
    method,
    headers: { "Content-Type": "application/json", ...(user ? { "X-Shop-User": user } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await response.json();
  if (!response.ok) throw new Error(data.error || "HTTP " + response.status);
  return data;
}

// --- catalogue and stock ------------------------------------------------------------------
function showCatalog() {
  main().innerHTML = "<ul id='products'></ul>";
  for (const p of PRODUCTS) {
    const li = document.createElement("li");
    li.textContent = `${p.name} ${formatPrice(p.priceCents)}`;
    li.dataset.sku = p.sku;
    document.getElementById("products").appendChild(li);
  }
  setTimeout(pollStock, 10);
}

async function pollStock() {
  const response = await fetch(SHOP_CONFIG.stockUrl || "http://127.0.0.1:9/stock");
  const stock = await response.json();
  for (const li of document.querySelectorAll("#products li")) {
    li.dataset.stock = stock[li.dataset.sku];
  }
}

// --- cart and coupons ------------------------------------------------------------------------
let cartLines = [];

function showCart() {
  main().innerHTML = `
    <form id="add"><select name="sku">${PRODUCTS.map((p) => `<option value="${p.sku}">${p.name}</option>`).join("")}</select>
      <input name="quantity" aria-label="Quantity" value="1"><button>Add to cart</button></form>
    <p id="cart-summary"></p>
    <form id="coupon"><input name="code" aria-label="Coupon code"><button>Apply coupon</button></form>
    <p id="total"></p>`;
  document.getElementById("add").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = new FormData(event.target);
    try {
      const data = await api("POST", "/api/cart/add", {
        session: "s-" + (params.get("user") || "guest") + "-" + Math.random().toString(36).slice(2),
        sku: form.get("sku"),
        quantity: form.get("quantity"),
      });
      cartLines = data.lines;
      const last = cartLines[cartLines.length - 1];
      const unit = PRODUCTS.find((p) => p.sku === last.sku).unit;
      document.getElementById("cart-summary").textContent = `${last.quantity} ${unit === "kg" ? "kg" : "x"} in cart`;
    } catch (error) {
      statusLine(error.message);
    }
  });
  document.getElementById("coupon").addEventListener("submit", async (event) => {
    event.preventDefault();
    const code = new FormData(event.target).get("code");
    try {
      const data = await api("POST", "/api/cart/price", { lines: cartLines, code });
      document.getElementById("total").textContent = "Total: " + formatPrice(data.totalCents);
    } catch (error) {
      statusLine(error.message);
    }
  });
}

// --- orders and refunds --------------------------------------------------------------------
function refundLabel(order) {
  return order.refund.status === "done" ? `Refunded ${order.refund.amount.toFixed(2)} ${order.currency}` : "Refund pending";
}

async function showOrder(id) {
  const order = await api("GET", `/api/orders/${id}`);
  main().innerHTML = `<h2>Order ${order.id}</h2><p id="refund"></p>`;
  document.getElementById("refund").textContent = refundLabel(order);
}

function openRefundDialog(order) {
  const dialog = document.createElement("div");
  dialog.setAttribute("role", "dialog");
  dialog.textContent = `Refund order ${order.id}? Current: ${refundLabel(order)}`;
  main().appendChild(dialog);
  statusLine("Refund requested");
}

async function showOrders() {
  main().innerHTML = "<ul id='orders'></ul>";
  for (const id of ["1001", "2002", "3003"]) {
    const order = await api("GET", `/api/orders/${id}`);
    const li = document.createElement("li");
    li.textContent = `Order ${id} (${order.currency}) `;
    const button = document.createElement("button");
    button.textContent = `Refund ${id}`;
    button.addEventListener("click", () => openRefundDialog(order));
    li.appendChild(button);
    document.getElementById("orders").appendChild(li);
  }
}

// --- checkout --------------------------------------------------------------------------------
function showCheckout() {
  const subtotalCents = 2430;
  main().innerHTML = `<p id="checkout-total">Total: ${formatPrice(subtotalCents + SHIPPING_EUR)}</p>
    <button id="place">Place order</button>`;
  document.getElementById("place").addEventListener("click", async () => {
    const data = await api("POST", "/api/checkout", { lines: [{ sku: "COF-250", quantity: 2 }] });
    statusLine(data.message);
  });
}

// --- newsletter ------------------------------------------------------------------------------
function showNewsletter() {
  main().innerHTML = `<input aria-label="Email" id="email"><button id="subscribe">Subscribe</button>`;
  document.getElementById("subscribe").addEventListener("click", async () => {
    try {
      await api("POST", "/api/newsletter", { user: params.get("user") || "", email: document.getElementById("email").value });
      statusLine("Subscribed");
    } catch (error) {
      statusLine(error.message);
    }
  });
}

// --- sales dashboard -----------------------------------------------------------------------
async function renderSalesChart() {
  const data = await api("GET", "/api/sales");
  const series = data.series.map((s) => ({ label: s.label, values: s.points }));
  main().innerHTML = "<div id='chart'></div>";
  MiniChart.draw(document.getElementById("chart"), series, { height: 40 });
}

// --- wishlist ------------------------------------------------------------------------------
function showWishlist() {
  main().innerHTML = "<ul id='wishlist'><li>House coffee 1 kg</li></ul>";
  if ("ontouchstart" in window) enableSwipeToRemove(document.getElementById("wishlist"));
  statusLine("1 saved item");
}

function enableSwipeToRemove(list) {
  const hint = document.querySelector("#swipe-hint");
  hint.hidden = false;
  list.addEventListener("touchend", (event) => event.target.remove());
}

const VIEWS = {
  catalog: showCatalog,
  cart: showCart,
  order: () => showOrder(params.get("id")),
  orders: showOrders,
  checkout: showCheckout,
  newsletter: showNewsletter,
  sales: renderSalesChart,
  wishlist: showWishlist,
};
(VIEWS[params.get("page") || "catalog"] || showCatalog)();
