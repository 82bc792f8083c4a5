// Prints every row of the Parquet files named on the command line as one
// JSON object per line, read by parquetjs (an implementation independent of
// arrow-go, which wrote them).
const parquet = require('@dsnp/parquetjs');

(async () => {
  for (const file of process.argv.slice(2)) {
    const reader = await parquet.ParquetReader.openFile(file);
    const cursor = reader.getCursor();
    let row;
    while ((row = await cursor.next())) {
      process.stdout.write(JSON.stringify(row, (k, v) => (typeof v === 'bigint' ? v.toString() : v)) + '\n');
    }
    await reader.close();
  }
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
