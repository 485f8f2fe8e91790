"""Training: config, input pipeline and augmentation, precision, the fit loops (plain and adversarial), progress, curves and export."""
