import { expect, test } from "@playwright/test";

test.describe("refunds API", () => {
  test("refunds 12.50", async ({ request }) => {
    const response = await request.post("/api/v2/refunds", { data: { order: "8801", amount: "12.50" } });
    expect(await response.json()).toEqual({ order: "8801", refundCents: 1250 });
  });

  test("refunds an amount typed with a decimal comma", async ({ request }) => {
    const response = await request.post("/api/v2/refunds", { data: { order: "8802", amount: "12,50" } });
    expect(response.status(), await response.text()).toBe(200);
  });
});
