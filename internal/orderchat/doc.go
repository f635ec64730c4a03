// Package orderchat owns what the people of one order say to each other and the photos a
// courier takes on the trip: the order chat between the order's student, its current courier
// and staff (bodies sealed with the tenant's pii.Cipher, since they carry phone and room
// numbers), and delivery photos kept in file storage (internal/storage) with a row each in
// order_photos, which deliver-order checks through PhotoForDelivery.
//
// Who may take part comes from the orders domain through the Orders interface; anyone who is
// not a party and not staff learns nothing, not even that the order exists. http.go holds the
// list-order-messages, send-order-message, upload-delivery-photo and get-order-photo
// operations.
package orderchat
