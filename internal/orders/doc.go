// Package orders owns errands: the order state machine (every legal move in one table), the
// order and its event history, and the rules for cancelling, confirming and reviewing. Money
// moves through the ledger and payments domains, called through interfaces declared here.
package orders
