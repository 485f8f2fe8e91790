"""FaceExampleGen: a file-based ExampleGen that reads face datasets (300W, dlib XML, WFLW,
CelebA, LFW 5-point, synthetic) and writes one cropped, attributed tf.Example per face."""
