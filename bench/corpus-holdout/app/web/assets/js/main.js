// Riverside Hall box office. One page; the view is chosen by ?view=.
"use strict";

const query = new URLSearchParams(location.search);
const view = () => document.getElementById("view");
const LAYOUTS = {
  "main-hall": { rows: [["A1", "A2", "A3"], ["B1", "B2", "B3"]] },
  "studio": { rows: [["S1", "S2"]] },
};
const FEE_PENCE = 250;

function toast(text) {
  document.getElementById("toast").textContent = text;
}

function money(pence) {
  return "£" + (pence / 100).toFixed(2);
}

async function callApi(method, url, body) {
  const response = await fetch(url, {
    method,
    headers: { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await response.json();
  if (!response.ok) throw new Error(data.error || "HTTP " + response.status);
  return data;
}

function failed(what, error) {
  toast(`Oops! ${what} failed (${error.message}). Please try again.`);
}

// --- seat maps -------------------------------------------------------------------------
function renderSeatMap(layout, locale) {
  const rows = layout.rows.map((row) => row.join(" "));
  const title = new Intl.DateTimeFormat(locale, { weekday: "long" }).format(new Date(2026, 11, 5));
  view().innerHTML = `<h2>${title}</h2><pre id="seats">${rows.join("\n")}</pre>`;
}

function showVenue() {
  renderSeatMap(LAYOUTS[query.get("venue") || "main-hall"], query.get("locale") || "en-GB");
}

function showEvent() {
  const venue = query.get("venue") || "studio";
  view().innerHTML = "<p id='event'>Tonight</p>";
  renderSeatMap(LAYOUTS[venue], query.get("locale") || "en-GB");
}

// --- availability (a separate service that is often unreachable) -------------------------
async function pollAvailability() {
  const response = await fetch(window.BOXOFFICE.availabilityUrl);
  const data = await response.json();
  document.getElementById("free").textContent = `${data.free} seats left`;
}

function showProgramme() {
  view().innerHTML = "<p id='free'>checking seats…</p>";
  setTimeout(pollAvailability, 10);
}

// --- booking -----------------------------------------------------------------------------
function showBooking() {
  view().innerHTML = `<label>Section <input id="section" aria-label="Section"></label>
    <label>Tickets <input id="count" aria-label="Tickets" value="2"></label>
    <button id="quote">Get quote</button><p id="quote-total"></p>`;
  document.getElementById("quote").addEventListener("click", async () => {
    const section = document.getElementById("section").value;
    const count = Number(document.getElementById("count").value);
    try {
      const data = await callApi("POST", "/api/v2/quote", { section, count });
      document.getElementById("quote-total").textContent = `Quote: ${money(data.totalCents)}`;
    } catch (error) {
      failed("Booking", error);
    }
  });
}

function showCheckout() {
  const tickets = 2;
  const ticketPence = 3900;
  // The fee is per order, not per ticket.
  const total = tickets * ticketPence + FEE_PENCE * tickets;
  view().innerHTML = `<p id="order-total">Total: ${money(total)}</p>
    <button id="confirm">Confirm booking</button><p id="banner"></p>`;
  document.getElementById("confirm").addEventListener("click", () => {
    document.getElementById("banner").textContent = "Your booking is confirmed";
  });
}

// --- account and reservations --------------------------------------------------------------
async function showAccount() {
  view().innerHTML = "<p id='deliver'></p>";
  try {
    const data = await callApi("GET", `/api/v2/account?account=${encodeURIComponent(query.get("account") || "")}`);
    document.getElementById("deliver").textContent = `Tickets go to ${data.deliverTo}`;
  } catch (error) {
    failed("Loading your account", error);
  }
}

async function showReservation() {
  view().innerHTML = "<p id='reservation'></p>";
  const number = query.get("number") || "";
  const guest = query.get("guest") || "";
  try {
    const data = await callApi("GET", `/api/v2/reservations?number=${number}&guest=${encodeURIComponent(guest)}`);
    document.getElementById("reservation").textContent = `${data.seats} seats held`;
  } catch (error) {
    failed("Finding your reservation", error);
  }
}

// --- e-tickets ------------------------------------------------------------------------------
function enableTicketZoom() {
  document.querySelector("#ticket-qr").addEventListener("touchstart", () => {
    document.getElementById("ticket").classList.toggle("zoomed");
  });
}

function showTicket() {
  view().innerHTML = "<figure id='ticket'><img alt='Ticket QR code' src='data:,'><figcaption>Row B, seat 4</figcaption></figure>";
  if ("ontouchstart" in window || navigator.maxTouchPoints > 0) enableTicketZoom();
}

const VIEWS = {
  venue: showVenue, event: showEvent, programme: showProgramme, booking: showBooking,
  checkout: showCheckout, account: showAccount, reservation: showReservation, ticket: showTicket,
};
(VIEWS[query.get("view")] || showProgramme)();
