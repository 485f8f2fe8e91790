"""Face data: readers of real dataset formats, synthetic faces, cropping, degradation, heatmaps."""
