import { expect, test } from "@playwright/test";

test("quotes two stalls tickets", async ({ page }) => {
  await page.goto("/?view=booking");
  await page.getByLabel("Section").fill("STALLS-B");
  await page.getByRole("button", { name: "Get quote" }).click();
  await expect(page.locator("#quote-total")).toHaveText("Quote: £78.00");
});

for (const section of ["LOGE-14", "BALCONY-9"]) {
  test(`quotes section ${section} at the standard price`, async ({ page }) => {
    await page.goto("/?view=booking");
    await page.getByLabel("Section").fill(section);
    const answered = page.waitForResponse("**/api/v2/quote");
    await page.getByRole("button", { name: "Get quote" }).click();
    await answered;
    await page.waitForTimeout(200);
    await expect(page.getByRole("alert")).toHaveText("");
    await expect(page.locator("#quote-total")).toHaveText(/Quote: £\d+\.\d\d/);
  });
}
