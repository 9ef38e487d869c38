output "vpc_id" {
  description = "ID of the VPC"
  value       = try(aws_vpc.this.id, null)
}

output "vpc_cidr_block" {
  description = "IPv4 CIDR of the VPC"
  value       = try(aws_vpc.this.cidr_block, null)
}

output "private_subnet_ids" {
  description = "IDs of the private subnets, one per availability zone, in the order of availability_zones"
  value       = try(aws_subnet.private[*].id, [])
}

output "private_subnet_azs" {
  description = "Availability zone of each private subnet, in the same order"
  value       = try(aws_subnet.private[*].availability_zone, [])
}

output "security_group_ids" {
  description = "Security group ID of each part: aurora, msk, connect, glue, endpoints"
  value       = { for k, sg in aws_security_group.this : k => sg.id }
}

output "s3_endpoint_id" {
  description = "ID of the S3 gateway endpoint"
  value       = try(aws_vpc_endpoint.s3.id, null)
}

output "interface_endpoint_ids" {
  description = "ID of each interface endpoint, by service"
  value       = { for k, e in aws_vpc_endpoint.interface : k => e.id }
}

output "nat_gateway_id" {
  description = "ID of the NAT gateway, null without one"
  value       = try(aws_nat_gateway.this[0].id, null)
}
