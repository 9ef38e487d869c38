data "aws_region" "current" {}

locals {
  az_count = length(var.availability_zones)
  newbits  = 4

  # Security groups of the pipeline's parts. Only the flows below are open; nothing is reachable from outside.
  groups = {
    aurora    = "Aurora PostgreSQL: the CDC source"
    msk       = "MSK brokers"
    connect   = "MSK Connect workers running Debezium"
    glue      = "Glue job ENIs"
    endpoints = "Interface VPC endpoints"
  }

  # from -> to on one port: an egress rule on `from` and the matching ingress rule on `to`
  flows = {
    connect_to_aurora    = { from = "connect", to = "aurora", port = var.postgres_port, what = "Debezium reads the WAL of Aurora PostgreSQL" }
    connect_to_msk       = { from = "connect", to = "msk", port = var.kafka_iam_port, what = "Debezium writes change events (IAM auth over TLS)" }
    glue_to_aurora       = { from = "glue", to = "aurora", port = var.postgres_port, what = "The verification job reads the source tables" }
    glue_to_msk          = { from = "glue", to = "msk", port = var.kafka_iam_port, what = "The Glue job reads change events (IAM auth over TLS)" }
    connect_to_endpoints = { from = "connect", to = "endpoints", port = 443, what = "MSK Connect workers call Secrets Manager, STS and CloudWatch Logs" }
    glue_to_endpoints    = { from = "glue", to = "endpoints", port = 443, what = "The Glue job calls the Glue Data Catalog, STS, CloudWatch Logs and metrics" }
  }
}

################################################################################
# VPC and subnets
################################################################################

resource "aws_vpc" "this" {
  cidr_block = var.cidr_block
  # interface endpoints answer on the services' own DNS names only with both enabled
  enable_dns_support   = true
  enable_dns_hostnames = true

  tags = merge(var.tags, { Name = var.name })
}

# The default group of a VPC allows all traffic between its members: close it, nothing uses it.
resource "aws_default_security_group" "this" {
  vpc_id = aws_vpc.this.id
  tags   = merge(var.tags, { Name = "${var.name}-default-closed" })
}

resource "aws_subnet" "private" {
  count = local.az_count

  vpc_id            = aws_vpc.this.id
  availability_zone = var.availability_zones[count.index]
  cidr_block        = cidrsubnet(var.cidr_block, local.newbits, count.index)

  tags = merge(var.tags, { Name = "${var.name}-private-${var.availability_zones[count.index]}" })
}

resource "aws_route_table" "private" {
  vpc_id = aws_vpc.this.id
  tags   = merge(var.tags, { Name = "${var.name}-private" })
}

resource "aws_route_table_association" "private" {
  count = local.az_count

  subnet_id      = aws_subnet.private[count.index].id
  route_table_id = aws_route_table.private.id
}

resource "aws_flow_log" "this" {
  count = var.enable_flow_log ? 1 : 0

  vpc_id               = aws_vpc.this.id
  traffic_type         = "ALL"
  log_destination_type = "s3"
  log_destination      = var.flow_log_destination_arn

  tags = var.tags
}

################################################################################
# Optional NAT: public subnets, internet gateway, one NAT gateway
################################################################################

resource "aws_subnet" "public" {
  count = var.enable_nat_gateway ? local.az_count : 0

  vpc_id                  = aws_vpc.this.id
  availability_zone       = var.availability_zones[count.index]
  cidr_block              = cidrsubnet(var.cidr_block, local.newbits, count.index + 8)
  map_public_ip_on_launch = false

  tags = merge(var.tags, { Name = "${var.name}-public-${var.availability_zones[count.index]}" })
}

resource "aws_internet_gateway" "this" {
  count = var.enable_nat_gateway ? 1 : 0

  vpc_id = aws_vpc.this.id
  tags   = merge(var.tags, { Name = var.name })
}

resource "aws_route_table" "public" {
  count = var.enable_nat_gateway ? 1 : 0

  vpc_id = aws_vpc.this.id
  tags   = merge(var.tags, { Name = "${var.name}-public" })
}

resource "aws_route" "public_internet" {
  count = var.enable_nat_gateway ? 1 : 0

  route_table_id         = aws_route_table.public[0].id
  destination_cidr_block = "0.0.0.0/0"
  gateway_id             = aws_internet_gateway.this[0].id
}

resource "aws_route_table_association" "public" {
  count = var.enable_nat_gateway ? local.az_count : 0

  subnet_id      = aws_subnet.public[count.index].id
  route_table_id = aws_route_table.public[0].id
}

resource "aws_eip" "nat" {
  count = var.enable_nat_gateway ? 1 : 0

  domain = "vpc"
  tags   = merge(var.tags, { Name = "${var.name}-nat" })
}

resource "aws_nat_gateway" "this" {
  count = var.enable_nat_gateway ? 1 : 0

  allocation_id = aws_eip.nat[0].id
  subnet_id     = aws_subnet.public[0].id
  tags          = merge(var.tags, { Name = var.name })

  depends_on = [aws_internet_gateway.this]
}

resource "aws_route" "private_nat" {
  count = var.enable_nat_gateway ? 1 : 0

  route_table_id         = aws_route_table.private.id
  destination_cidr_block = "0.0.0.0/0"
  nat_gateway_id         = aws_nat_gateway.this[0].id
}

################################################################################
# VPC endpoints
################################################################################

# S3 through a gateway endpoint: free, and the Glue job's reads and writes never leave the VPC.
resource "aws_vpc_endpoint" "s3" {
  vpc_id            = aws_vpc.this.id
  service_name      = "com.amazonaws.${data.aws_region.current.name}.s3"
  vpc_endpoint_type = "Gateway"
  route_table_ids   = [aws_route_table.private.id]

  tags = merge(var.tags, { Name = "${var.name}-s3" })
}

resource "aws_vpc_endpoint" "interface" {
  for_each = var.interface_endpoints

  vpc_id              = aws_vpc.this.id
  service_name        = "com.amazonaws.${data.aws_region.current.name}.${each.key}"
  vpc_endpoint_type   = "Interface"
  private_dns_enabled = true
  subnet_ids          = aws_subnet.private[*].id
  security_group_ids  = [aws_security_group.this["endpoints"].id]

  tags = merge(var.tags, { Name = "${var.name}-${each.key}" })
}

################################################################################
# Security groups: only what flows
################################################################################

resource "aws_security_group" "this" {
  #checkov:skip=CKV2_AWS_5:each group is attached by the module of its part (aurora, msk, msk_connect, glue) or by the interface endpoints
  for_each = local.groups

  name        = "${var.name}-${each.key}"
  description = each.value
  vpc_id      = aws_vpc.this.id

  tags = merge(var.tags, { Name = "${var.name}-${each.key}" })

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_egress_rule" "flow" {
  for_each = local.flows

  security_group_id            = aws_security_group.this[each.value.from].id
  referenced_security_group_id = aws_security_group.this[each.value.to].id
  ip_protocol                  = "tcp"
  from_port                    = each.value.port
  to_port                      = each.value.port
  description                  = each.value.what
}

resource "aws_vpc_security_group_ingress_rule" "flow" {
  for_each = local.flows

  security_group_id            = aws_security_group.this[each.value.to].id
  referenced_security_group_id = aws_security_group.this[each.value.from].id
  ip_protocol                  = "tcp"
  from_port                    = each.value.port
  to_port                      = each.value.port
  description                  = each.value.what
}

# Glue requires its connection's group to let the job's own ENIs reach each other on every TCP port.
resource "aws_vpc_security_group_ingress_rule" "glue_self" {
  #checkov:skip=CKV_AWS_24:the source is the Glue group itself, not 0.0.0.0/0
  #checkov:skip=CKV_AWS_25:the source is the Glue group itself, not 0.0.0.0/0
  #checkov:skip=CKV_AWS_260:the source is the Glue group itself, not 0.0.0.0/0
  security_group_id            = aws_security_group.this["glue"].id
  referenced_security_group_id = aws_security_group.this["glue"].id
  ip_protocol                  = "tcp"
  from_port                    = 0
  to_port                      = 65535
  description                  = "Glue workers of the same job (required by Glue connections)"
}

resource "aws_vpc_security_group_egress_rule" "glue_self" {
  security_group_id            = aws_security_group.this["glue"].id
  referenced_security_group_id = aws_security_group.this["glue"].id
  ip_protocol                  = "tcp"
  from_port                    = 0
  to_port                      = 65535
  description                  = "Glue workers of the same job (required by Glue connections)"
}

resource "aws_vpc_security_group_egress_rule" "glue_s3" {
  security_group_id = aws_security_group.this["glue"].id
  prefix_list_id    = aws_vpc_endpoint.s3.prefix_list_id
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  description       = "The Glue job reads its script and writes the lake through the S3 gateway endpoint"
}
