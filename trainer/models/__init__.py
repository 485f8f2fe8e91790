"""The networks (JASRNet, DIC, DICGAN, Pro-UIGAN, the discriminator), their shared blocks and the registry that builds them from config."""
