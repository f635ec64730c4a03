// Package catalog owns a tenant's task types: the kinds of errand students can post (代取快递,
// 代买餐食, 代送物品, 代排队 by default, plus any the tenant adds), each with the form it asks
// for, whether it is offered, its display order, its pricing rule, and optional overrides of the
// tenant's service hours and commission split.
//
// Task types live in the tenant's task_types table. New tenants get them from their blueprint
// through SeedFromBlueprint; tenants provisioned earlier got them from the migration that
// created the table. Admins then create, edit, disable and reorder them; keys never change,
// because orders refer to them, and types are disabled rather than deleted.
//
// A type's form is a schema, not code: ValidateForm checks a student's submitted values
// against it on the server, whatever the client did. Functions take the *gorm.DB of a tenant
// transaction (store.InTenant) and never open their own; Service opens one per admin change and
// records the change in the audit log inside it. Errors are the sentinels in errors.go, with
// *ValidationError and *FormError carrying the field at fault; only http.go (the public
// list-task-types and the admin operations of RegisterAdminHTTP) speaks HTTP.
package catalog
