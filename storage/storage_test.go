package storage

import (
	"strings"
	"testing"
)

func TestCatalogKeepsCreationOrderAndForgetsDrops(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	for i, name := range []string{"zeta", "alpha", "mid"} {
		if err := db.AddCatalog(name, uint32(16384+i), "CREATE TABLE "+name+" (x INT)"); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.DropCatalog("alpha"); err != nil {
		t.Fatal(err)
	}
	db.Close()

	db, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	entries, err := db.Catalog()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name)
	}
	if strings.Join(got, ",") != "zeta,mid" || entries[1].OID != 16386 {
		t.Fatalf("catalog = %v (%+v), want zeta,mid in creation order with their OIDs", got, entries)
	}
	// A new object after a reopen still sorts last.
	if err := db.AddCatalog("aardvark", 16390, "CREATE TABLE aardvark (x INT)"); err != nil {
		t.Fatal(err)
	}
	entries, _ = db.Catalog()
	if entries[len(entries)-1].Name != "aardvark" {
		t.Fatalf("new entry not last: %+v", entries)
	}
}

func TestTableRowsAreDroppedWithTheTable(t *testing.T) {
	db, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	a, ab := db.Table("a"), db.Table("ab")
	if err := a.Apply(nil, [][2]string{{"k1", "r1"}, {"k2", "r2"}}); err != nil {
		t.Fatal(err)
	}
	if err := ab.Apply(nil, [][2]string{{"k1", "other"}}); err != nil {
		t.Fatal(err)
	}
	if err := a.Apply([]string{"k1"}, nil); err != nil {
		t.Fatal(err)
	}
	rows := func(l *TableLog) string {
		var out []string
		if err := l.Rows(func(k, r string) { out = append(out, k+"="+r) }); err != nil {
			t.Fatal(err)
		}
		return strings.Join(out, ",")
	}
	if got := rows(a); got != "k2=r2" {
		t.Fatalf("a = %s", got)
	}
	if err := db.DropCatalog("a"); err != nil {
		t.Fatal(err)
	}
	if got := rows(a); got != "" {
		t.Fatalf("a after drop = %s", got)
	}
	if got := rows(ab); got != "k1=other" {
		t.Fatalf("dropping a touched ab: %s", got)
	}
}

func TestASecondOpenOfTheSameDirectoryIsRefused(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := Open(dir); err == nil || !strings.Contains(err.Error(), "in use by another Sluice") {
		t.Fatalf("second open: %v", err)
	}
}
