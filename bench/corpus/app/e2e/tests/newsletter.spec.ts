import { expect, test } from "@playwright/test";

test("a customer can subscribe to the newsletter", async ({ page }) => {
  await page.goto("/?page=newsletter&user=u-101");
  await page.getByLabel("Email").fill("grace@example.test");
  await page.getByRole("button", { name: "Subscribe" }).click();
  await expect(page.getByRole("status")).toHaveText("Subscribed");
});

test("a guest can subscribe to the newsletter", async ({ page }) => {
  await page.goto("/?page=newsletter");
  await page.getByLabel("Email").fill("guest@example.test");
  await page.getByRole("button", { name: "Subscribe" }).click();
  await expect(page.getByRole("status")).toHaveText("Subscribed");
});
