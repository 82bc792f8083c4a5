package format

import (
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/sluicedb/sluice/types"
)

var bidSchema = types.Schema{
	{Name: "auction", Type: types.Int8},
	{Name: "bidder", Type: types.Int8},
	{Name: "price", Type: types.Int8},
	{Name: "channel", Type: types.Varchar},
	{Name: "url", Type: types.Varchar},
	{Name: "date_time", Type: types.Timestamp},
	{Name: "extra", Type: types.Varchar},
}

// bidRecord is a Nexmark bid as a Kafka topic or a file of JSON lines holds
// it (about 250 bytes).
const bidRecord = `{"auction":1007,"bidder":2001,"price":1783290,"channel":"Google",` +
	`"url":"https://www.nexmark.com/xzct/bv_c/wbmf/item.htm?query=1&channel_id=1275068416",` +
	`"date_time":"2015-07-15 00:00:04.123","extra":"xthzfkqhgsnhnkrnjpdmvmkufsrrdcdyouqsnwhwtq"}`

func BenchmarkJSONDecode(b *testing.B) {
	d, err := NewJSONDecoder(bidSchema, memory.NewGoAllocator())
	if err != nil {
		b.Fatal(err)
	}
	defer d.Release()
	rec := []byte(bidRecord)
	b.SetBytes(int64(len(rec)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := d.Append(rec); err != nil {
			b.Fatal(err)
		}
		if d.Len() == 1024 {
			d.Finish().Release()
		}
	}
	d.Finish().Release()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

func BenchmarkCSVDecode(b *testing.B) {
	d, err := NewCSVDecoder(bidSchema, CSVOptions{}, memory.NewGoAllocator())
	if err != nil {
		b.Fatal(err)
	}
	defer d.Release()
	rec := []byte(`1007,2001,1783290,Google,"https://www.nexmark.com/xzct/bv_c/wbmf/item.htm?query=1&channel_id=1275068416",2015-07-15 00:00:04.123,xthzfkqhgsnhnkrnjpdmvmkufsrrdcdyouqsnwhwtq`)
	b.SetBytes(int64(len(rec)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := d.Append(rec); err != nil {
			b.Fatal(err)
		}
		if d.Len() == 1024 {
			d.Finish().Release()
		}
	}
	d.Finish().Release()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
