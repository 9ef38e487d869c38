################################################################################
# Key
################################################################################

variable "name" {
  description = "Name of the deployment: the key's description and its alias, alias/<name>"
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9/_-]{1,200}$", var.name)) && !startswith(var.name, "aws")
    error_message = "name: letters, digits, /, _ and -, not starting with aws (alias/aws* is reserved)."
  }
}

variable "deletion_window_days" {
  description = "Days between scheduling the key's deletion (terraform destroy) and the deletion; until then kms cancel-key-deletion brings it back"
  type        = number
  default     = 30

  validation {
    condition     = var.deletion_window_days >= 7 && var.deletion_window_days <= 30 && floor(var.deletion_window_days) == var.deletion_window_days
    error_message = "deletion_window_days must be a whole number from 7 to 30."
  }
}

variable "tags" {
  description = "Tags of every resource"
  type        = map(string)
  default     = {}
}
