"""The catalogue of the city's departments.

Guangzhou's government says 68 departments exchange data through the city information
library; these are they (municipal bureaus and commissions, plus the state bodies, courts
and people's organisations that sit in the city), followed by the utilities and telecom
operators that bill citizens, and the eleven district governments. Codes are stable: they
appear in case routing, data-sharing agreements and employee numbers, so never renumber.
"""

from __future__ import annotations

from types import MappingProxyType

from smartcity.kernel.identity.divisions import GUANGZHOU_DISTRICTS
from smartcity.kernel.identity.models import Department, DepartmentKind

_B = DepartmentKind.BUREAU
_U = DepartmentKind.UTILITY
_T = DepartmentKind.TELECOM

# (code, Chinese name, English name, short name)
_BUREAUS: tuple[tuple[str, str, str, str], ...] = (
    (
        "GZ-BGT",
        "广州市人民政府办公厅",
        "General Office of the Guangzhou Municipal People's Government",
        "市府办",
    ),
    ("GZ-FGW", "广州市发展和改革委员会", "Guangzhou Development and Reform Commission", "发改委"),
    ("GZ-JYJ", "广州市教育局", "Guangzhou Education Bureau", "教育局"),
    ("GZ-KJJ", "广州市科学技术局", "Guangzhou Science and Technology Bureau", "科技局"),
    (
        "GZ-GXJ",
        "广州市工业和信息化局",
        "Guangzhou Industry and Information Technology Bureau",
        "工信局",
    ),
    (
        "GZ-MZW",
        "广州市民族宗教事务委员会",
        "Guangzhou Ethnic and Religious Affairs Commission",
        "民宗委",
    ),
    ("GZ-GAJ", "广州市公安局", "Guangzhou Public Security Bureau", "公安局"),
    ("GZ-MZJ", "广州市民政局", "Guangzhou Civil Affairs Bureau", "民政局"),
    ("GZ-SFJ", "广州市司法局", "Guangzhou Justice Bureau", "司法局"),
    ("GZ-CZJ", "广州市财政局", "Guangzhou Finance Bureau", "财政局"),
    (
        "GZ-RSJ",
        "广州市人力资源和社会保障局",
        "Guangzhou Human Resources and Social Security Bureau",
        "人社局",
    ),
    (
        "GZ-GHZYJ",
        "广州市规划和自然资源局",
        "Guangzhou Planning and Natural Resources Bureau",
        "规划和自然资源局",
    ),
    ("GZ-STHJJ", "广州市生态环境局", "Guangzhou Ecology and Environment Bureau", "生态环境局"),
    (
        "GZ-ZJJ",
        "广州市住房和城乡建设局",
        "Guangzhou Housing and Urban-Rural Development Bureau",
        "住建局",
    ),
    ("GZ-JTJ", "广州市交通运输局", "Guangzhou Transport Bureau", "交通运输局"),
    ("GZ-SWJ", "广州市水务局", "Guangzhou Water Affairs Bureau", "水务局"),
    (
        "GZ-NYNCJ",
        "广州市农业农村局",
        "Guangzhou Agriculture and Rural Affairs Bureau",
        "农业农村局",
    ),
    ("GZ-SHWJ", "广州市商务局", "Guangzhou Commerce Bureau", "商务局"),
    (
        "GZ-WGLJ",
        "广州市文化广电旅游局",
        "Guangzhou Culture, Radio, Television and Tourism Bureau",
        "文广旅局",
    ),
    ("GZ-WJW", "广州市卫生健康委员会", "Guangzhou Health Commission", "卫健委"),
    ("GZ-TYJRJ", "广州市退役军人事务局", "Guangzhou Veterans Affairs Bureau", "退役军人事务局"),
    ("GZ-YJGLJ", "广州市应急管理局", "Guangzhou Emergency Management Bureau", "应急管理局"),
    ("GZ-SJJ", "广州市审计局", "Guangzhou Audit Bureau", "审计局"),
    (
        "GZ-WSB",
        "广州市人民政府外事办公室",
        "Foreign Affairs Office of the Guangzhou Municipal People's Government",
        "外办",
    ),
    (
        "GZ-GZW",
        "广州市人民政府国有资产监督管理委员会",
        "Guangzhou State-owned Assets Supervision and Administration Commission",
        "国资委",
    ),
    (
        "GZ-SCJGJ",
        "广州市市场监督管理局",
        "Guangzhou Administration for Market Regulation",
        "市场监管局",
    ),
    ("GZ-TYJ", "广州市体育局", "Guangzhou Sports Bureau", "体育局"),
    ("GZ-TJJ", "广州市统计局", "Guangzhou Statistics Bureau", "统计局"),
    ("GZ-YBJ", "广州市医疗保障局", "Guangzhou Healthcare Security Administration", "医保局"),
    (
        "GZ-CGJ",
        "广州市城市管理和综合执法局",
        "Guangzhou Urban Management and Comprehensive Law Enforcement Bureau",
        "城管局",
    ),
    ("GZ-LYYLJ", "广州市林业和园林局", "Guangzhou Forestry and Landscaping Bureau", "林业园林局"),
    (
        "GZ-YJS",
        "广州市人民政府研究室",
        "Research Office of the Guangzhou Municipal People's Government",
        "研究室",
    ),
    ("GZ-XFJ", "广州市信访局", "Guangzhou Letters and Visits Bureau", "信访局"),
    (
        "GZ-ZSJ",
        "广州市政务服务数据管理局",
        "Guangzhou Government Service and Data Management Bureau",
        "政数局",
    ),
    (
        "GZ-JRJ",
        "广州市地方金融监督管理局",
        "Guangzhou Local Financial Supervision and Administration Bureau",
        "地方金融监管局",
    ),
    ("GZ-GWJ", "广州市港务局", "Guangzhou Port Authority", "港务局"),
    ("GZ-RFB", "广州市人民防空办公室", "Guangzhou Civil Air Defence Office", "人防办"),
    ("GZ-XZB", "广州市协作办公室", "Guangzhou Cooperation Office", "协作办"),
    (
        "GZ-JGSWJ",
        "广州市机关事务管理局",
        "Guangzhou Government Offices Administration",
        "机关事务管理局",
    ),
    (
        "GZ-QB",
        "广州市人民政府侨务办公室",
        "Overseas Chinese Affairs Office of the Guangzhou Municipal People's Government",
        "侨办",
    ),
    (
        "GZ-TB",
        "广州市人民政府台湾事务办公室",
        "Taiwan Affairs Office of the Guangzhou Municipal People's Government",
        "台办",
    ),
    ("GZ-DAJ", "广州市档案局", "Guangzhou Archives Bureau", "档案局"),
    ("GZ-DFZB", "广州市地方志办公室", "Guangzhou Local Chronicles Office", "地方志办"),
    ("GZ-GXS", "广州市供销合作总社", "Guangzhou Supply and Marketing Cooperative", "供销总社"),
    (
        "GZ-GJJ",
        "广州住房公积金管理中心",
        "Guangzhou Housing Provident Fund Management Centre",
        "公积金中心",
    ),
    (
        "GZ-GGZY",
        "广州公共资源交易中心",
        "Guangzhou Public Resources Trading Centre",
        "公共资源交易中心",
    ),
    (
        "GZ-RXZX",
        "广州12345政府服务便民热线管理中心",
        "Guangzhou 12345 Government Service Hotline Centre",
        "12345热线",
    ),
    (
        "GZ-WXB",
        "中共广州市委网络安全和信息化委员会办公室",
        "Guangzhou Cyberspace Affairs Office",
        "网信办",
    ),
    ("GZ-JJZD", "广州市公安局交通警察支队", "Guangzhou Traffic Police Detachment", "交警支队"),
    (
        "GZ-CRJ",
        "广州市公安局出入境管理支队",
        "Guangzhou Exit and Entry Administration Detachment",
        "出入境支队",
    ),
    ("GZ-XFZD", "广州市消防救援支队", "Guangzhou Fire and Rescue Detachment", "消防救援支队"),
    (
        "GZ-SUWJ",
        "国家税务总局广州市税务局",
        "Guangzhou Municipal Tax Service, State Taxation Administration",
        "税务局",
    ),
    ("GZ-HG", "中华人民共和国广州海关", "Guangzhou Customs", "广州海关"),
    ("GZ-RMYH", "中国人民银行广东省分行", "People's Bank of China Guangdong Branch", "人民银行"),
    (
        "GZ-JRJG",
        "国家金融监督管理总局广东监管局",
        "National Financial Regulatory Administration Guangdong Office",
        "金融监管局",
    ),
    ("GZ-HSJ", "中华人民共和国广州海事局", "Guangzhou Maritime Safety Administration", "海事局"),
    ("GZ-YZGLJ", "广州市邮政管理局", "Guangzhou Postal Administration", "邮政管理局"),
    ("GZ-QXJ", "广州市气象局", "Guangzhou Meteorological Bureau", "气象局"),
    ("GZ-YCJ", "广州市烟草专卖局", "Guangzhou Tobacco Monopoly Bureau", "烟草专卖局"),
    (
        "GZ-DCD",
        "国家统计局广州调查队",
        "Guangzhou Survey Office of the National Bureau of Statistics",
        "调查队",
    ),
    ("GZ-ZY", "广州市中级人民法院", "Guangzhou Intermediate People's Court", "市中院"),
    ("GZ-JCY", "广州市人民检察院", "Guangzhou People's Procuratorate", "市检察院"),
    ("GZ-ZGH", "广州市总工会", "Guangzhou Federation of Trade Unions", "总工会"),
    ("GZ-TSW", "共青团广州市委员会", "Guangzhou Committee of the Communist Youth League", "团市委"),
    ("GZ-FL", "广州市妇女联合会", "Guangzhou Women's Federation", "妇联"),
    ("GZ-CL", "广州市残疾人联合会", "Guangzhou Disabled Persons' Federation", "残联"),
    ("GZ-HSZH", "广州市红十字会", "Guangzhou Red Cross Society", "红十字会"),
    ("GZ-KX", "广州市科学技术协会", "Guangzhou Association for Science and Technology", "科协"),
)

_UTILITIES: tuple[tuple[str, str, str, str, DepartmentKind], ...] = (
    (
        "GZ-GDJ",
        "广东电网有限责任公司广州供电局",
        "Guangzhou Power Supply Bureau, Guangdong Power Grid",
        "供电局",
        _U,
    ),
    ("GZ-ZLS", "广州市自来水有限公司", "Guangzhou Water Supply Company", "自来水公司", _U),
    ("GZ-RQ", "广州燃气集团有限公司", "Guangzhou Gas Group", "燃气集团", _U),
    ("GZ-JS", "广州市净水有限公司", "Guangzhou Sewage Treatment Company", "净水公司", _U),
    ("GZ-DT", "广州地铁集团有限公司", "Guangzhou Metro Group", "广州地铁", _U),
    ("GZ-GJ", "广州公交集团有限公司", "Guangzhou Public Transport Group", "广州公交", _U),
    ("GZ-DX", "中国电信股份有限公司广州分公司", "China Telecom Guangzhou Branch", "广州电信", _T),
    (
        "GZ-YD",
        "中国移动通信集团广东有限公司广州分公司",
        "China Mobile Guangzhou Branch",
        "广州移动",
        _T,
    ),
    (
        "GZ-LT",
        "中国联合网络通信有限公司广州市分公司",
        "China Unicom Guangzhou Branch",
        "广州联通",
        _T,
    ),
)

# District government codes: GZ- plus the pinyin initials of the district and 区 (Q).
_DISTRICT_CODES: dict[str, tuple[str, str]] = {
    "440103": ("GZ-LWQ", "Liwan"),
    "440104": ("GZ-YXQ", "Yuexiu"),
    "440105": ("GZ-HZQ", "Haizhu"),
    "440106": ("GZ-THQ", "Tianhe"),
    "440111": ("GZ-BYQ", "Baiyun"),
    "440112": ("GZ-HPQ", "Huangpu"),
    "440113": ("GZ-PYQ", "Panyu"),
    "440114": ("GZ-HDQ", "Huadu"),
    "440115": ("GZ-NSQ", "Nansha"),
    "440117": ("GZ-CHQ", "Conghua"),
    "440118": ("GZ-ZCQ", "Zengcheng"),
}

BUREAUS: tuple[Department, ...] = tuple(
    Department(code=code, name=name, name_en=name_en, short_name=short, kind=_B)
    for code, name, name_en, short in _BUREAUS
)
UTILITIES_AND_TELECOMS: tuple[Department, ...] = tuple(
    Department(code=code, name=name, name_en=name_en, short_name=short, kind=kind)
    for code, name, name_en, short, kind in _UTILITIES
)
DISTRICT_GOVERNMENTS: tuple[Department, ...] = tuple(
    Department(
        code=_DISTRICT_CODES[division][0],
        name=f"广州市{district}人民政府",
        name_en=f"{_DISTRICT_CODES[division][1]} District People's Government",
        short_name=f"{district}政府",
        kind=DepartmentKind.DISTRICT_GOVERNMENT,
        district_code=division,
    )
    for division, district in GUANGZHOU_DISTRICTS.items()
)

DEPARTMENTS: tuple[Department, ...] = BUREAUS + UTILITIES_AND_TELECOMS + DISTRICT_GOVERNMENTS
DEPARTMENTS_BY_CODE: MappingProxyType[str, Department] = MappingProxyType(
    {department.code: department for department in DEPARTMENTS}
)
