import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** A small guidance folder with clearly separate topics, written to a temp dir. */
export function writeGuidance(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'rd-guidance-'));
  writeFileSync(
    path.join(dir, 'monthly-report.md'),
    `---
title: Submitting the monthly report
audience: district data officers
---
# Submitting the monthly report

## The Submit button is greyed out

The **Submit** button stays grey until every required field passes validation. Open the list of validation errors at the top of the form and correct each one; the button turns blue when the last error is fixed.

## Correcting a report after submission

Ask your district supervisor to return the report to you. Returned reports appear under **My reports** with the status *Returned*.
`,
  );
  writeFileSync(
    path.join(dir, 'offline.md'),
    `# Working offline

## Sync is stuck on pending upload

When records stay in **Pending upload**, connect to a stable network, open the app and tap **Sync now**. Do not uninstall the app: unsynced records would be lost.

## Storage is full on the tablet

Delete old photos and downloaded videos, then restart the tablet. The app needs 500 MB free to sync.
`,
  );
  return dir;
}

export const PASSWORD_DOC = `# Passwords

## Resetting a forgotten password

Use **Forgot password** on the login page. A reset link arrives by e-mail within five minutes; it works once, for one hour.
`;
