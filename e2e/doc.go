// Package e2e holds end-to-end tests: real video through the real model,
// tracker and counter into the embedded Kafka broker over TCP, read back by
// a kafka-go consumer, and the storesight binary on bad input. They are kept
// apart from the unit tests of each package.
package e2e
