"""Static facts behind the synthetic Guangzhou: the 11 districts and the city outline.

Sources (full notes in ``docs/data-sources.md``):

- Division codes: GB/T 2260 / 民政部 行政区划代码 (440103 荔湾区 … 440118 增城区).
- Land areas (km²): 广州市统计年鉴 (Guangzhou Statistical Yearbook) 2021, table
  "行政区划和土地面积"; the eleven districts add up to the city's 7,434.40 km².
- Residents: 广州市第七次全国人口普查公报 (Seventh National Population Census bulletin,
  2021-05), resident population by district on 2020-11-01; the city total is 18,676,605.
- Streets and towns: 广州市行政区划 as published by 广州市民政局 around 2020–2021
  (about 176 street offices and towns in total); counts per district are approximate.
- Centres: approximate geographic centres of each district's area, read off public maps
  (OpenStreetMap boundaries); they are not the seats of the district governments.
- City outline: a hand-drawn polygon that follows Guangzhou's shape and extent
  (lon 112.95–114.05, lat 22.56–23.93), not a surveyed boundary.

Everything finer than a district (streets, communities, unit grids, roads, names) is
generated.
"""

from __future__ import annotations

from dataclasses import dataclass

CITY_CODE = "440100"
CITY_NAME = "广州市"
CITY_NAME_EN = "Guangzhou"


@dataclass(frozen=True)
class DistrictFacts:
    """Public figures of one real district."""

    code: str
    name: str
    name_en: str
    centre_lon: float
    centre_lat: float
    land_area_km2: float
    residents_2020: int
    streets: int
    towns: int

    @property
    def street_count(self) -> int:
        """Street offices (街道) and towns (镇) together."""
        return self.streets + self.towns


DISTRICTS: tuple[DistrictFacts, ...] = (
    DistrictFacts("440103", "荔湾区", "Liwan", 113.232, 23.103, 59.10, 1_238_438, 22, 0),
    DistrictFacts("440104", "越秀区", "Yuexiu", 113.281, 23.131, 33.80, 1_038_863, 18, 0),
    DistrictFacts("440105", "海珠区", "Haizhu", 113.330, 23.086, 90.40, 1_819_863, 18, 0),
    DistrictFacts("440106", "天河区", "Tianhe", 113.368, 23.155, 96.33, 2_241_826, 21, 0),
    DistrictFacts("440111", "白云区", "Baiyun", 113.300, 23.290, 795.79, 3_740_263, 20, 4),
    DistrictFacts("440112", "黄埔区", "Huangpu", 113.490, 23.210, 484.17, 1_264_841, 16, 1),
    DistrictFacts("440113", "番禺区", "Panyu", 113.390, 22.960, 529.94, 2_658_030, 11, 5),
    DistrictFacts("440114", "花都区", "Huadu", 113.210, 23.430, 970.04, 1_642_360, 4, 6),
    DistrictFacts("440115", "南沙区", "Nansha", 113.530, 22.760, 783.86, 846_474, 3, 6),
    DistrictFacts("440117", "从化区", "Conghua", 113.600, 23.640, 1974.50, 717_766, 3, 5),
    DistrictFacts("440118", "增城区", "Zengcheng", 113.810, 23.310, 1616.47, 1_466_290, 7, 6),
)

# Counter-clockwise (lon, lat) around the city, starting at Conghua's northern tip.
CITY_OUTLINE: tuple[tuple[float, float], ...] = (
    (113.66, 23.93),
    (113.52, 23.87),
    (113.40, 23.78),
    (113.34, 23.64),
    (113.20, 23.57),
    (113.06, 23.49),
    (112.95, 23.40),
    (113.03, 23.29),
    (113.13, 23.21),
    (113.16, 23.11),
    (113.20, 23.03),
    (113.26, 22.93),
    (113.32, 22.84),
    (113.39, 22.73),
    (113.48, 22.63),
    (113.57, 22.56),
    (113.63, 22.63),
    (113.66, 22.78),
    (113.62, 22.97),
    (113.70, 23.07),
    (113.85, 23.11),
    (113.96, 23.17),
    (114.05, 23.35),
    (113.98, 23.52),
    (113.88, 23.68),
    (113.76, 23.84),
)

# Characters of made-up but plausible Lingnan place names, with their pinyin. Two of them
# make a name: 石岗, 沙涌, 龙塘 ...
NAME_HEADS: dict[str, str] = {
    "东": "dong", "西": "xi", "南": "nan", "北": "bei", "新": "xin", "石": "shi",
    "沙": "sha", "龙": "long", "凤": "feng", "金": "jin", "华": "hua", "黄": "huang",
    "白": "bai", "青": "qing", "花": "hua", "桂": "gui", "荔": "li", "榕": "rong",
    "棠": "tang", "江": "jiang", "云": "yun", "松": "song", "竹": "zhu", "梅": "mei",
    "莲": "lian", "兰": "lan", "鹤": "he", "凰": "huang", "珠": "zhu", "瑶": "yao",
    "大": "da", "小": "xiao", "上": "shang", "下": "xia", "中": "zhong", "长": "chang",
    "平": "ping", "永": "yong", "福": "fu", "康": "kang", "安": "an", "宁": "ning",
    "清": "qing", "明": "ming", "光": "guang", "广": "guang", "秀": "xiu", "文": "wen",
}  # fmt: skip

NAME_TAILS: dict[str, str] = {
    "岗": "gang", "塘": "tang", "洲": "zhou", "涌": "chong", "岭": "ling", "坑": "keng",
    "埔": "pu", "湾": "wan", "头": "tou", "田": "tian", "溪": "xi", "苑": "yuan",
    "园": "yuan", "村": "cun", "坊": "fang", "桥": "qiao", "岸": "an", "墩": "dun",
    "滘": "jiao", "沥": "li", "围": "wei", "冲": "chong", "湖": "hu", "山": "shan",
    "林": "lin", "峰": "feng", "乡": "xiang", "口": "kou", "边": "bian", "心": "xin",
    "城": "cheng", "和": "he", "兴": "xing", "泰": "tai", "盛": "sheng", "丰": "feng",
}  # fmt: skip
