// Command sluice runs the Sluice streaming SQL engine.
//
//	sluice [serve] [flags]   run the server (the default)
//	sluice playground        the server with an in-process Kafka broker
//	sluice bench nexmark     run a Nexmark query and report its throughput
//	sluice version           print the version
//
// Run `sluice serve --help` for the flags.
package main
