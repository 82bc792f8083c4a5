package all

import (
	"github.com/sluicedb/sluice/connectors"
	"github.com/sluicedb/sluice/connectors/blackhole"
	"github.com/sluicedb/sluice/connectors/datagen"
	"github.com/sluicedb/sluice/connectors/file"
	"github.com/sluicedb/sluice/connectors/http"
	"github.com/sluicedb/sluice/connectors/kafka"
	"github.com/sluicedb/sluice/connectors/nexmark"
	"github.com/sluicedb/sluice/connectors/postgres"
)

// Registry returns a registry of every built-in connector.
func Registry() *connectors.Registry {
	return connectors.NewRegistry(
		blackhole.Connector(),
		datagen.Connector(),
		file.Connector(),
		http.Connector(),
		kafka.Connector(),
		nexmark.Connector(),
		postgres.Connector(),
	)
}
