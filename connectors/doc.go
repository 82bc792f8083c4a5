// Package connectors defines how Sluice talks to the outside world: a source
// lists its splits and reads each from a position; every connector declares
// its options once, and a Registry lists the connectors explicitly.
package connectors
