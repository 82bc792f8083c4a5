package catalog

import (
	"testing"

	"github.com/sluicedb/sluice/pgerror"
)

func mustAdd(t *testing.T, c *Catalog, o *Object) {
	t.Helper()
	if err := c.Add(o); err != nil {
		t.Fatalf("add %s: %v", o.Name, err)
	}
}

func TestNamesAreUniqueAcrossKinds(t *testing.T) {
	c := New()
	mustAdd(t, c, &Object{Kind: Source, Name: "bids"})
	err := c.Add(&Object{Kind: Table, Name: "bids"})
	if pgerror.Code(err) != pgerror.DuplicateTable {
		t.Fatalf("err = %v, want 42P07", err)
	}
}

func TestAnObjectCannotReadWhatDoesNotExist(t *testing.T) {
	err := New().Add(&Object{Kind: MaterializedView, Name: "v", DependsOn: []string{"nope"}})
	if pgerror.Code(err) != pgerror.UndefinedTable {
		t.Fatalf("err = %v, want 42P01", err)
	}
}

func TestOIDsAreAssignedOnceAndNeverReused(t *testing.T) {
	c := New()
	a := &Object{Kind: Table, Name: "a"}
	mustAdd(t, c, a)
	if a.OID < firstOID {
		t.Fatalf("OID %d is in PostgreSQL's reserved range", a.OID)
	}
	if _, err := c.Drop("a", Table, false); err != nil {
		t.Fatal(err)
	}
	b := &Object{Kind: Table, Name: "a"}
	mustAdd(t, c, b)
	if b.OID == a.OID {
		t.Fatalf("OID %d reused after a drop", a.OID)
	}
}

func TestDropRefusesDependentsUnlessCascade(t *testing.T) {
	c := New()
	mustAdd(t, c, &Object{Kind: Source, Name: "s"})
	mustAdd(t, c, &Object{Kind: MaterializedView, Name: "v1", DependsOn: []string{"s"}})
	mustAdd(t, c, &Object{Kind: MaterializedView, Name: "v2", DependsOn: []string{"v1"}})
	mustAdd(t, c, &Object{Kind: Table, Name: "other"})

	_, err := c.Drop("s", Source, false)
	if pgerror.Code(err) != pgerror.DependentObjectsStillExist {
		t.Fatalf("err = %v, want 2BP01", err)
	}
	if _, err := c.Drop("v1", Source, false); pgerror.Code(err) != pgerror.WrongObjectType {
		t.Fatalf("dropping a view as a source: err = %v, want 42809", err)
	}
	dropped, err := c.Drop("s", Source, true)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, o := range dropped {
		names = append(names, o.Name)
	}
	if got, want := names, []string{"v2", "v1", "s"}; len(got) != 3 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Fatalf("dropped %v, want dependents first: %v", got, want)
	}
	if all := c.All(); len(all) != 1 || all[0].Name != "other" {
		t.Fatalf("left %v, want only other", all)
	}
}
