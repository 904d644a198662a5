// A Playwright reporter that prints CI's tally as the very last line: "N passed, N failed"
// (skipped tests are listed on the line before and count as neither). A test that failed, timed
// out or was interrupted is failed; an error outside any test (a worker or config error) counts
// as one failure so the run can never read as clean.

export default class TallyReporter {
  constructor() {
    this.passed = 0;
    this.failed = 0;
    this.skipped = 0;
    this.errors = 0;
  }

  onTestEnd(test, result) {
    // Only the final attempt counts (retries are off, but stay correct if they are turned on).
    if (result.retry < test.retries && result.status !== 'passed' && result.status !== 'skipped') return;
    if (result.status === 'passed') this.passed += 1;
    else if (result.status === 'skipped') this.skipped += 1;
    else this.failed += 1;
  }

  onError() {
    this.errors += 1;
  }

  onEnd(result) {
    const failed = this.failed + this.errors + (result.status !== 'passed' && this.failed + this.errors === 0 ? 1 : 0);
    if (this.skipped) console.log(`${this.skipped} skipped`);
    console.log(`${this.passed} passed, ${failed} failed`);
  }

  printsToStdio() {
    return true;
  }
}
