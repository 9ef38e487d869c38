output "id" {
  description = "ID of the bootstrap: changes when it runs again (modules that need the database depend on it)"
  value       = terraform_data.this.id
}
