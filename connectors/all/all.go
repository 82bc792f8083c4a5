package all

import (
	"github.com/sluicedb/sluice/connectors"
	"github.com/sluicedb/sluice/connectors/blackhole"
	"github.com/sluicedb/sluice/connectors/cassandra"
	"github.com/sluicedb/sluice/connectors/datagen"
	"github.com/sluicedb/sluice/connectors/file"
	"github.com/sluicedb/sluice/connectors/http"
	"github.com/sluicedb/sluice/connectors/kafka"
	"github.com/sluicedb/sluice/connectors/mqtt"
	"github.com/sluicedb/sluice/connectors/nexmark"
	"github.com/sluicedb/sluice/connectors/postgres"
	"github.com/sluicedb/sluice/connectors/postgrescdc"
	"github.com/sluicedb/sluice/connectors/rabbitmq"
)

// Option changes what Registry builds.
type Option func(*settings)

type settings struct {
	ingest *http.Ingest
}

// WithIngest gives the http connector's source side the hub that receives
// POST /ingest/<source>; the server mounts the same hub on its HTTP
// listener. Without it, CREATE SOURCE ... WITH (connector = 'http') fails
// with a message saying so.
func WithIngest(hub *http.Ingest) Option {
	return func(s *settings) { s.ingest = hub }
}

// Registry returns a registry of every built-in connector.
func Registry(opts ...Option) *connectors.Registry {
	var s settings
	for _, o := range opts {
		o(&s)
	}
	return connectors.NewRegistry(
		blackhole.Connector(),
		cassandra.Connector(),
		datagen.Connector(),
		file.Connector(),
		http.Connector(s.ingest),
		kafka.Connector(),
		mqtt.Connector(),
		nexmark.Connector(),
		postgres.Connector(),
		postgrescdc.Connector(),
		rabbitmq.Connector(),
	)
}
