// Package rabbitmq is the RabbitMQ source: the messages of one queue,
// consumed over AMQP 0-9-1 with github.com/rabbitmq/amqp091-go and decoded
// as FORMAT PLAIN ENCODE JSON or CSV, one record per message body.
//
//	CREATE SOURCE orders (id BIGINT, customer INT, amount BIGINT)
//	WITH (connector = 'rabbitmq', url = 'amqp://guest:guest@127.0.0.1:5672/',
//	      queue = 'orders', exchange = 'shop', routing.key = 'orders.*')
//	FORMAT PLAIN ENCODE JSON;
//
// # Topology
//
// NewSource and each reader declare the queue unless queue.declare is
// false (then it must exist), and bind it to exchange with routing.key
// when exchange is set. A queue is a stream that consumers share out: two
// consumers of one queue each get some of its messages. So a source has
// one split, the queue, and one reader at a time: a second view over the
// source is refused (its reading shows "retrying" in SHOW SOURCES) rather
// than silently getting half of the messages.
//
// # Acknowledgements: at least once
//
// Messages are consumed with manual acknowledgements and basic.qos
// prefetch, which bounds the messages delivered and not yet acknowledged:
// a slow view makes RabbitMQ keep the rest in the queue. A message is
// acknowledged once Sluice no longer needs it. Until the engine has
// checkpoints that is when Next is called again after returning the batch
// that holds it: the runtime has then handed the batch to the view. (With
// checkpoints the acknowledgement must move to when a checkpoint covering
// the batch is stored; reader.ack is the place.) Acknowledgements are
// multiple: one basic.ack for the batch's last delivery tag.
//
// Messages delivered and not acknowledged when the connection closes (a
// reader closed, a broker that went away, Sluice stopping) are put back by
// RabbitMQ and delivered again to the next reader, flagged redelivered:
// nothing is lost, and a message may be read twice. A connection or
// channel that closes makes Next return an error naming RabbitMQ's reason
// (the batch being gathered is dropped: it will be delivered again), and
// the runtime opens a new reader with backoff, showing the error in SHOW
// SOURCES meanwhile.
//
// The Position is always empty: a queue cannot be re-read from a point,
// and what has not been acknowledged is redelivered anyway.
//
// # Bad messages
//
// A body that does not decode is a RecordError located as "queue Q
// delivery N", and reading goes on; it is acknowledged with its batch, or,
// with dead_letter.exchange, rejected without requeueing so that RabbitMQ
// dead-letters it there. An empty body is no record.
package rabbitmq
