import { expect, test } from "@playwright/test";

test.describe("shipping API", () => {
  test("estimates standard delivery for an ISO date", async ({ request }) => {
    const response = await request.get("/api/shipping/estimate?date=2026-12-01&method=standard");
    expect(response.status()).toBe(200);
    expect(await response.json()).toEqual({ method: "standard", date: "2026-12-01" });
  });

  test("estimates express delivery for a date typed in the day/month/year form", async ({ request }) => {
    const response = await request.get("/api/shipping/estimate?date=24/12/2026&method=express");
    expect(response.status(), await response.text()).toBe(200);
  });
});
