"""PyNWB's calcium-imaging tutorial, run with nwbzarr: it writes and reads an NWB HDF5 file.

Only the imports differ from the tutorial (``pynwb`` -> ``nwbzarr``), plus ``num_samples`` on the
external-file series, which NWB 2.10+ requires. ``ophys_tutorial_zarr.py`` is the same with Zarr.
"""

from datetime import datetime
from dateutil.tz import tzlocal

import numpy as np
from nwbzarr import NWBFile, TimeSeries, NWBHDF5IO
from nwbzarr.image import ImageSeries
from nwbzarr.ophys import TwoPhotonSeries, OpticalChannel, ImageSegmentation, \
    Fluorescence, CorrectedImageStack, MotionCorrection, RoiResponseSeries

import matplotlib.pyplot as plt

nwbfile = NWBFile(
    'my first synthetic recording',
    'EXAMPLE_ID',
    datetime.now(tzlocal()),
    experimenter='Dr. Bilbo Baggins',
    lab='Bag End Laboratory',
    institution='University of Middle Earth at the Shire',
    experiment_description='I went on an adventure with thirteen dwarves '
                           'to reclaim vast treasures.',
    session_id='LONELYMTN'
)

device = nwbfile.create_device(
    name="Microscope",
    description="My two-photon microscope",
    manufacturer="The best microscope manufacturer"
)
optical_channel = OpticalChannel(
    name="OpticalChannel",
    description="an optical channel",
    emission_lambda=500.
)
imaging_plane = nwbfile.create_imaging_plane(
    name="ImagingPlane",
    optical_channel=optical_channel,
    imaging_rate=30.,
    description="a very interesting part of the brain",
    device=device,
    excitation_lambda=600.,
    indicator="GFP",
    location="V1",
    grid_spacing=[.01, .01],
    grid_spacing_unit="meters",
    origin_coords=[1., 2., 3.],
    origin_coords_unit="meters"
)

# using internal data. this data will be stored inside the NWB file
image_series1 = TwoPhotonSeries(
    name='TwoPhotonSeries1',
    data=np.ones((1000, 100, 100)),
    imaging_plane=imaging_plane,
    rate=1.0,
    unit='normalized amplitude'
)

# using external data. only the file paths will be stored inside the NWB file
image_series2 = TwoPhotonSeries(
    name='TwoPhotonSeries2',
    dimension=[100, 100],
    external_file=['images.tiff'],
    imaging_plane=imaging_plane,
    starting_frame=[0],
    format='external',
    starting_time=0.0,
    rate=1.0,
    num_samples=1000,
)

nwbfile.add_acquisition(image_series1)
nwbfile.add_acquisition(image_series2)

corrected = ImageSeries(
    name='corrected',  # this must be named "corrected"
    data=np.ones((1000, 100, 100)),
    unit='na',
    format='raw',
    starting_time=0.0,
    rate=1.0
)

xy_translation = TimeSeries(
    name='xy_translation',
    data=np.ones((1000, 2)),
    unit='pixels',
    starting_time=0.0,
    rate=1.0,
)

corrected_image_stack = CorrectedImageStack(
    corrected=corrected,
    original=image_series1,
    xy_translation=xy_translation,
)

motion_correction = MotionCorrection(
    corrected_image_stacks=[corrected_image_stack]
)

ophys_module = nwbfile.create_processing_module(
    name='ophys',
    description='optical physiology processed data'
)

ophys_module.add(motion_correction)

img_seg = ImageSegmentation()

ps = img_seg.create_plane_segmentation(
    name='PlaneSegmentation',
    description='output from segmenting my favorite imaging plane',
    imaging_plane=imaging_plane,
    reference_images=image_series1  # optional
)

ophys_module.add(img_seg)

for _ in range(30):
    image_mask = np.zeros((100, 100))

    # randomly generate example image masks
    x = np.random.randint(0, 95)
    y = np.random.randint(0, 95)
    image_mask[x:x + 5, y:y + 5] = 1

    # add image mask to plane segmentation
    ps.add_roi(image_mask=image_mask)

# show one of the image masks
plt.imshow(image_mask)

ps2 = img_seg.create_plane_segmentation(
    name='PlaneSegmentation2',
    description='output from segmenting my favorite imaging plane',
    imaging_plane=imaging_plane,
    reference_images=image_series1  # optional
)

for _ in range(30):
    # randomly generate example starting points for region
    x = np.random.randint(0, 95)
    y = np.random.randint(0, 95)

    # define an example 4 x 3 region of pixels of weight '1'
    pixel_mask = []
    for ix in range(x, x + 4):
        for iy in range(y, y + 3):
            pixel_mask.append((ix, iy, 1))

    # add pixel mask to plane segmentation
    ps2.add_roi(pixel_mask=pixel_mask)

ps3 = img_seg.create_plane_segmentation(
    name='PlaneSegmentation3',
    description='output from segmenting my favorite imaging plane',
    imaging_plane=imaging_plane,
    reference_images=image_series1  # optional
)

for _ in range(30):
    # randomly generate example starting points for region
    x = np.random.randint(0, 95)
    y = np.random.randint(0, 95)
    z = np.random.randint(0, 15)

    # define an example 4 x 3 x 2 voxel region of weight '0.5'
    voxel_mask = []
    for ix in range(x, x + 4):
        for iy in range(y, y + 3):
            for iz in range(z, z + 2):
                voxel_mask.append((ix, iy, iz, 0.5))

    # add voxel mask to plane segmentation
    ps3.add_roi(voxel_mask=voxel_mask)

ps2.to_dataframe()

rt_region = ps.create_roi_table_region(
    region=[0, 1],
    description='the first of two ROIs'
)

roi_resp_series = RoiResponseSeries(
    name='RoiResponseSeries',
    data=np.ones((50, 2)),  # 50 samples, 2 ROIs
    rois=rt_region,
    unit='lumens',
    rate=30.
)

fl = Fluorescence(roi_response_series=roi_resp_series)
ophys_module.add(fl)

with NWBHDF5IO('ophys_tutorial.nwb', 'w') as io:
    io.write(nwbfile)

with NWBHDF5IO('ophys_tutorial.nwb', 'r') as io:
    read_nwbfile = io.read()
    print(read_nwbfile.acquisition['TwoPhotonSeries1'])
    print(read_nwbfile.processing['ophys'])
    print(read_nwbfile.processing['ophys']['Fluorescence'])
    print(
        read_nwbfile.processing['ophys']['Fluorescence']['RoiResponseSeries'])

with NWBHDF5IO('ophys_tutorial.nwb', 'r') as io:
    read_nwbfile = io.read()

    print(read_nwbfile.acquisition['TwoPhotonSeries1'])
    print(read_nwbfile.processing['ophys']['Fluorescence']['RoiResponseSeries'].data[:])

with NWBHDF5IO('ophys_tutorial.nwb', 'r') as io:
    read_nwbfile = io.read()

    print('section of fluorescence responses:')
    print(read_nwbfile.processing['ophys']['Fluorescence']['RoiResponseSeries'].data[0:10, 0:3])
