import { expect, test } from "@playwright/test";

test("a member sees where tickets go", async ({ page }) => {
  await page.goto("/?view=account&account=a-101");
  await expect(page.locator("#deliver")).toHaveText("Tickets go to ben@example.org");
});

test("a guest sees where tickets go", async ({ page }) => {
  const answered = page.waitForResponse("**/api/v2/account?*");
  await page.goto("/?view=account&account=g-5521");
  await answered;
  await page.waitForTimeout(200);
  await expect(page.getByRole("alert")).toHaveText("");
});
