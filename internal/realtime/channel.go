package realtime

import "strconv"

// OrderChannel carries one order's timeline (status changes, messages) to its student, its
// courier and staff watching it.
func OrderChannel(tenantID int64, orderID string) string {
	return prefix(tenantID) + "order:" + orderID
}

// HallChannel carries the courier task hall: orders appearing and leaving.
func HallChannel(tenantID int64) string { return prefix(tenantID) + "hall" }

// AdminChannel is the staff live feed: status changes, alerts, exceptions.
func AdminChannel(tenantID int64) string { return prefix(tenantID) + "admin" }

// MapChannel carries courier positions for the admin live map.
func MapChannel(tenantID int64) string { return prefix(tenantID) + "map" }

// CourierChannel carries what is meant for one courier: offers and messages.
func CourierChannel(tenantID int64, userID string) string {
	return prefix(tenantID) + "courier:" + userID
}

// PositionChannel carries one courier's position, for the student and staff following a trip.
func PositionChannel(tenantID int64, userID string) string {
	return CourierChannel(tenantID, userID) + ":pos"
}

func prefix(tenantID int64) string { return "t:" + strconv.FormatInt(tenantID, 10) + ":" }
