// Package all lists the connectors built into Sluice. The list is explicit:
// adding a connector means adding it here, and tests build their own
// registries.
package all
