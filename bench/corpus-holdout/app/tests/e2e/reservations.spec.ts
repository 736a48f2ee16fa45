import { expect, test } from "@playwright/test";

for (const [number, guest] of [["7003", "e2e.one@example.org"], ["7004", "e2e.two@example.org"]]) {
  test(`finds reservation ${number} for ${guest}`, async ({ page }) => {
    const answered = page.waitForResponse("**/api/v2/reservations?*");
    await page.goto(`/?view=reservation&number=${number}&guest=${guest}`);
    await answered;
    await page.waitForTimeout(200);
    await expect(page.getByRole("alert")).not.toContainText("Oops");
    await expect(page.locator("#reservation")).toHaveText(/\d+ seats held/);
  });
}
