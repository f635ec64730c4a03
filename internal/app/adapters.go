package app

import (
	"context"
	"errors"

	"github.com/paotui/paotui/internal/orderchat"
	"github.com/paotui/paotui/internal/orders"
	"github.com/paotui/paotui/internal/platform/tenancy"
)

// chatOrders gives the order chat who an order concerns.
type chatOrders struct{ orders *orders.Service }

func (c chatOrders) Parties(ctx context.Context, t *tenancy.Tenant, orderID string) (orderchat.Parties, error) {
	student, courier, status, err := c.orders.Parties(ctx, t, orderID)
	if errors.Is(err, orders.ErrNotFound) {
		return orderchat.Parties{}, orderchat.ErrNotFound
	}
	if err != nil {
		return orderchat.Parties{}, err
	}
	return orderchat.Parties{StudentID: student, CourierID: courier, Status: string(status), Terminal: status.Terminal()}, nil
}
