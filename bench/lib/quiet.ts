/**
 * Imported first by run.ts: node:sqlite (used to capture the API's SQL) prints an
 * ExperimentalWarning on load, which would only clutter the report. Other warnings still print.
 */
process.removeAllListeners('warning');
process.on('warning', (w) => {
  if (w.name !== 'ExperimentalWarning') console.warn(w);
});
